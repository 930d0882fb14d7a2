#include "libs/auth/test_certs.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "absl/time/clock.h"

namespace takt::auth::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(what);
}

// The PEM text `write` puts into a memory BIO.
template <typename Write>
std::string PemOf(Write&& write, const char* what) {
  BIO* b = BIO_new(BIO_s_mem());
  Check(write(b) == 1, what);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, n);
  BIO_free(b);
  return out;
}

std::string KeyPem(EVP_PKEY* key) {
  return PemOf([&](BIO* b) { return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); },
               "key pem");
}
std::string PublicPem(EVP_PKEY* key) {
  return PemOf([&](BIO* b) { return PEM_write_bio_PUBKEY(b, key); }, "public pem");
}
std::string CertPem(X509* cert) {
  return PemOf([&](BIO* b) { return PEM_write_bio_X509(b, cert); }, "cert pem");
}

EVP_PKEY* ReadKey(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  Check(k != nullptr, "read key");
  return k;
}

X509* ReadCert(const std::string& pem) {
  BIO* b = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* c = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  Check(c != nullptr, "read cert");
  return c;
}

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

long g_serial = 1;

Pem Make(const std::string& cn, EVP_PKEY* issuer_key, X509* issuer_cert, bool ca, absl::Duration not_before,
         absl::Duration not_after) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  Check(key != nullptr, "ec key");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), ++g_serial + static_cast<long>(absl::ToUnixMicros(absl::Now()) % 1000000) * 1000);
  X509_gmtime_adj(X509_getm_notBefore(cert), absl::ToInt64Seconds(not_before));
  X509_gmtime_adj(X509_getm_notAfter(cert), absl::ToInt64Seconds(not_after));
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer_cert != nullptr ? X509_get_subject_name(issuer_cert) : name);
  X509* issuer = issuer_cert != nullptr ? issuer_cert : cert;
  if (ca) {
    AddExtension(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert, issuer, NID_basic_constraints, "CA:FALSE");
    AddExtension(cert, issuer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    AddExtension(cert, issuer, NID_ext_key_usage, "serverAuth,clientAuth");
  }
  Check(X509_sign(cert, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "sign");
  Pem out{CertPem(cert), KeyPem(key), PublicPem(key)};
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

}  // namespace

Pem MakeCa(const std::string& common_name) {
  return Make(common_name, nullptr, nullptr, true, -absl::Hours(1), absl::Hours(24 * 365));
}

Pem MakeCertificate(const Pem& ca, const std::string& common_name, absl::Duration not_before,
                    absl::Duration not_after) {
  EVP_PKEY* key = ReadKey(ca.key);
  X509* cert = ReadCert(ca.cert);
  Pem out = Make(common_name, key, cert, false, not_before, not_after);
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

Pem MakeRsaKey() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  Check(key != nullptr, "rsa key");
  Pem out{"", KeyPem(key), PublicPem(key)};
  EVP_PKEY_free(key);
  return out;
}

Pem MakeEcKey() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  Check(key != nullptr, "ec key");
  Pem out{"", KeyPem(key), PublicPem(key)};
  EVP_PKEY_free(key);
  return out;
}

std::string MakeJwt(const std::string& alg, const std::string& private_key_pem,
                    const std::map<std::string, std::string>& claims, const std::map<std::string, long>& int_claims) {
  jwt_t* jwt = nullptr;
  Check(jwt_new(&jwt) == 0, "jwt_new");
  for (const auto& [k, v] : claims) jwt_add_grant(jwt, k.c_str(), v.c_str());
  for (const auto& [k, v] : int_claims) jwt_add_grant_int(jwt, k.c_str(), v);
  const jwt_alg_t a = jwt_str_alg(alg.c_str());
  Check(jwt_set_alg(jwt, a, a == JWT_ALG_NONE ? nullptr : reinterpret_cast<const unsigned char*>(private_key_pem.data()),
                    a == JWT_ALG_NONE ? 0 : static_cast<int>(private_key_pem.size())) == 0,
        "jwt_set_alg");
  char* text = jwt_encode_str(jwt);
  Check(text != nullptr, "jwt_encode_str");
  std::string out(text);
  free(text);
  jwt_free(jwt);
  return out;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace takt::auth::testing
