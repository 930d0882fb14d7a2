#include "libs/crypto/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>
#include <cstdio>

namespace takt::crypto {

struct Sha256::Impl {
  EVP_MD* md = nullptr;
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : impl_(new Impl) {
  impl_->md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  impl_->ctx = EVP_MD_CTX_new();
  if (impl_->md == nullptr || impl_->ctx == nullptr) {
    std::fprintf(stderr, "takt: OpenSSL SHA-256 unavailable\n");
    std::abort();  // Cannot happen with a working libcrypto; never continue.
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(impl_->ctx);
  EVP_MD_free(impl_->md);
  delete impl_;
}

Sha256& Sha256::ThreadLocal() {
  thread_local Sha256 hasher;
  return hasher;
}

void Sha256::Chain(std::string_view a, std::string_view b, unsigned char out[kSha256Size]) {
  unsigned int len = 0;
  if (EVP_DigestInit_ex2(impl_->ctx, impl_->md, nullptr) != 1 ||
      EVP_DigestUpdate(impl_->ctx, a.data(), a.size()) != 1 ||
      (!b.empty() && EVP_DigestUpdate(impl_->ctx, b.data(), b.size()) != 1) ||
      EVP_DigestFinal_ex(impl_->ctx, out, &len) != 1 || len != kSha256Size) {
    std::fprintf(stderr, "takt: SHA-256 failed\n");
    std::abort();
  }
}

std::string Sha256::Chain(std::string_view a, std::string_view b) {
  std::string out(kSha256Size, '\0');
  Chain(a, b, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string Sha256::DigestOfParts(std::span<const std::string_view> parts) {
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  bool ok = EVP_DigestInit_ex2(impl_->ctx, impl_->md, nullptr) == 1;
  for (std::string_view p : parts) {
    ok = ok && (p.empty() || EVP_DigestUpdate(impl_->ctx, p.data(), p.size()) == 1);
  }
  if (!ok || EVP_DigestFinal_ex(impl_->ctx, reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != kSha256Size) {
    std::fprintf(stderr, "takt: SHA-256 failed\n");
    std::abort();
  }
  return out;
}

}  // namespace takt::crypto
