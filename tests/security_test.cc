// Transport security end to end (libs/auth): `takt serve` with TLS, mutual
// TLS for facility systems and services, bearer tokens for people; wrong
// CAs, expired certificates, certificates naming no principal, forged and
// misdirected tokens; facility systems confined to their own facility's
// streams; the recorded actor is the principal; certificates reloaded.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/auth/test_certs.h"
#include "libs/common/proto_time.h"
#include "libs/testing/temp_dir.h"
#include "services/enterprise/definitions_yaml.h"
#include "services/registry.h"
#include "takt/audit/v1/audit.grpc.pb.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "takt/scheduling/v1/ingest.grpc.pb.h"

namespace takt {
namespace {

namespace ev1 = ::takt::enterprise::v1;
namespace sv1 = ::takt::scheduling::v1;
namespace av1 = ::takt::audit::v1;
using auth::testing::Pem;

std::string Example(const std::string& name) {
  std::ifstream in(std::string(TAKT_SOURCE_DIR) + "/deploy/examples/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = auth::testing::MakeCa("Takt test CA");
    const Pem identity = auth::testing::MakeCertificate(ca_, "service:takt");
    Write("server.pem", identity.cert);
    Write("server.key", identity.key);
    Write("ca.pem", ca_.cert);
    idp_ = auth::testing::MakeRsaKey();
    Write("idp.pub", idp_.public_key);
    host::ServerOptions o;
    o.data_dir = dir_.path() + "/data";
    o.listen = "127.0.0.1:0";
    o.security.cert_file = Path("server.pem");
    o.security.key_file = Path("server.key");
    o.security.client_ca_file = Path("ca.pem");
    o.security.jwt_public_key_files = {Path("idp.pub")};
    o.security.jwt_issuer = "https://id.example.com";
    o.security.jwt_audience = "takt";
    o.security.reload_interval_seconds = 1;
    auto server = services::StartServer(o);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    address_ = "127.0.0.1:" + std::to_string(server_->port());
    // The enterprise, applied by a Takt service (service-to-service).
    admin_ = Channel(ca_.cert, auth::testing::MakeCertificate(ca_, "service:admin"));
    auto defs = enterprise::ParseDefinitionsYaml(Example("enterprise.yaml"), "enterprise.yaml");
    ASSERT_TRUE(defs.ok()) << defs.status();
    grpc::ClientContext ctx;
    ev1::ApplyDefinitionsResponse resp;
    grpc::Status s = ev1::EnterpriseService::NewStub(admin_)->ApplyDefinitions(&ctx, *defs, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }
  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }
  void Write(const std::string& name, const std::string& text) const { auth::testing::WriteFile(Path(name), text); }

  // A channel trusting `roots`, with a client certificate and/or a token.
  std::shared_ptr<grpc::Channel> Channel(const std::string& roots, const Pem& client = {},
                                         const std::string& token = "") const {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = roots;
    o.pem_cert_chain = client.cert;
    o.pem_private_key = client.key;
    std::shared_ptr<grpc::ChannelCredentials> creds = grpc::SslCredentials(o);
    if (!token.empty()) creds = grpc::CompositeChannelCredentials(creds, grpc::AccessTokenCredentials(token));
    return grpc::CreateChannel(address_, creds);
  }
  std::string Token(std::map<std::string, std::string> claims = {}, long expires_in = 600,
                    const std::string& alg = "RS256", const std::string* key = nullptr) const {
    std::map<std::string, std::string> c = {{"iss", "https://id.example.com"}, {"aud", "takt"}, {"sub", "alice"}};
    for (auto& [k, v] : claims) c[k] = v;
    return auth::testing::MakeJwt(alg, key ? *key : idp_.key, c,
                                  {{"exp", absl::ToUnixSeconds(absl::Now()) + expires_in}});
  }
  // Defines a work unit of Detroit's press line as the channel's caller.
  grpc::Status Define(const std::shared_ptr<grpc::Channel>& channel, const std::string& unit) const {
    ev1::ApplyDefinitionsRequest r;
    auto* u = r.add_definitions()->mutable_work_unit();
    u->set_facility("detroit-1");
    u->set_work_center("press-line");
    u->set_work_unit(unit);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ev1::ApplyDefinitionsResponse resp;
    return ev1::EnterpriseService::NewStub(channel)->ApplyDefinitions(&ctx, r, &resp);
  }
  // Streams one count for `facility` as the channel's caller; the status
  // that ends the stream and the acknowledgements read.
  grpc::Status Ingest(const std::shared_ptr<grpc::Channel>& channel, const std::string& facility, int* acks,
                      const std::string& source = "gw-1") const {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = sv1::FacilityIngestService::NewStub(channel)->StreamObservations(&ctx);
    sv1::ObservationBatch b;
    b.set_facility(facility);
    b.set_batch_id(1);
    auto* o = b.add_observations();
    o->set_source_id(source);
    o->set_source_sequence(1);
    *o->mutable_source_time() = ToProto(absl::Now() - absl::Hours(1));
    o->mutable_count()->set_work_unit("press-1");
    o->mutable_count()->set_product("hood");
    o->mutable_count()->set_good(10);
    *acks = 0;
    sv1::IngestAck ack;
    if (stream->Write(b) && stream->Read(&ack)) ++*acks;
    stream->WritesDone();
    while (stream->Read(&ack)) ++*acks;
    return stream->Finish();
  }
  // The actors of a facility's scheduling events (read by a service).
  std::vector<std::string> Actors(const std::string& facility) const {
    av1::ReplayRequest r;
    r.set_facility(facility);
    r.add_contexts("scheduling");
    grpc::ClientContext ctx;
    auto reader = av1::AuditService::NewStub(admin_)->Replay(&ctx, r);
    std::vector<std::string> out;
    av1::ReplayItem item;
    while (reader->Read(&item)) {
      if (item.has_event()) out.push_back(item.event().actor());
    }
    EXPECT_TRUE(reader->Finish().ok());
    return out;
  }

  testing::TempDir dir_;
  Pem ca_, idp_;
  std::unique_ptr<host::TaktServer> server_;
  std::string address_;
  std::shared_ptr<grpc::Channel> admin_;
};

TEST_F(SecurityTest, AFacilitySystemWritesOnlyItsOwnFacilityAndIsTheRecordedActor) {
  auto detroit = Channel(ca_.cert, auth::testing::MakeCertificate(ca_, "facility:detroit-1"));
  int acks = 0;
  grpc::Status s = Ingest(detroit, "detroit-1", &acks);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(acks, 1);
  EXPECT_EQ(Actors("detroit-1"), std::vector<std::string>{"facility:detroit-1"});
  // Another facility's stream: the stream ends PERMISSION_DENIED, nothing recorded.
  s = Ingest(detroit, "stuttgart-1", &acks, "gw-2");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "stuttgart-1")) << s.error_message();
  EXPECT_EQ(acks, 0);
  EXPECT_TRUE(Actors("stuttgart-1").empty());
  // Nor may it call anything but its ingest: redefining the enterprise is refused.
  s = Define(detroit, "sneaked");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
}

TEST_F(SecurityTest, BadCertificatesAndNoCredentialsAreRefused) {
  // A client certificate of another CA, and an expired one: no handshake.
  const Pem rogue_ca = auth::testing::MakeCa("Rogue CA");
  for (const Pem& cert : {auth::testing::MakeCertificate(rogue_ca, "facility:detroit-1"),
                          auth::testing::MakeCertificate(ca_, "facility:detroit-1", -absl::Hours(48),
                                                         -absl::Hours(24))}) {
    int acks = 0;
    grpc::Status s = Ingest(Channel(ca_.cert, cert), "detroit-1", &acks);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    EXPECT_EQ(acks, 0);
  }
  // A server the client does not trust: no handshake either.
  EXPECT_EQ(Define(Channel(rogue_ca.cert, auth::testing::MakeCertificate(ca_, "service:admin")), "x").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // A valid certificate that names no principal (a person cannot hold one).
  grpc::Status s = Define(Channel(ca_.cert, auth::testing::MakeCertificate(ca_, "person:alice")), "x");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  // TLS without a certificate or a token.
  s = Define(Channel(ca_.cert), "x");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "say who you are")) << s.error_message();
  // Plaintext to a TLS server: nothing.
  auto plain = grpc::CreateChannel(address_, grpc::InsecureChannelCredentials());
  EXPECT_EQ(Define(plain, "x").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Actors("detroit-1").empty());
}

TEST_F(SecurityTest, PeopleAuthenticateWithTokensAndForgedOnesAreRefused) {
  ASSERT_TRUE(Define(Channel(ca_.cert, {}, Token()), "bracket").ok());
  const Pem other = auth::testing::MakeRsaKey();
  struct Case {
    std::string token;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{
           {Token({}, -3600), "expired"},
           {Token({{"aud", "another-app"}}), "audience"},
           {Token({{"iss", "https://evil.example.com"}}), "issuer"},
           {Token({}, 600, "RS256", &other.key), "signature"},
           {Token({}, 600, "none", nullptr), "signature"},
           {Token({}, 600, "HS256", &idp_.public_key), "signature"},
       }) {
    grpc::Status s = Define(Channel(ca_.cert, {}, c.token), "forged");
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << c.says << ": " << s.error_message();
    EXPECT_TRUE(absl::StrContains(s.error_message(), c.says)) << s.error_message();
  }
  // The recorded actor of the person's change is the person.
  av1::ReplayRequest r;
  r.set_facility("detroit-1");
  r.add_contexts("enterprise");
  grpc::ClientContext ctx;
  auto reader = av1::AuditService::NewStub(admin_)->Replay(&ctx, r);
  av1::ReplayItem item;
  std::string actor_of_bracket;
  bool forged = false;
  while (reader->Read(&item)) {
    if (!item.has_event()) continue;
    if (item.event().payload_json().find("bracket") != std::string::npos) actor_of_bracket = item.event().actor();
    if (item.event().payload_json().find("forged") != std::string::npos) forged = true;
  }
  grpc::Status finished = reader->Finish();
  ASSERT_TRUE(finished.ok()) << finished.error_message();
  EXPECT_EQ(actor_of_bracket, "person:alice");
  EXPECT_FALSE(forged);
}

TEST_F(SecurityTest, ARenewedServerCertificateIsServedWithoutARestart) {
  const Pem new_ca = auth::testing::MakeCa("Takt test CA 2027");
  const Pem renewed = auth::testing::MakeCertificate(new_ca, "service:takt");
  Write("server.key", renewed.key);
  Write("server.pem", renewed.cert);
  // Clients that trust only the new CA (with a client certificate the
  // server still accepts) connect once the files are read again.
  const Pem client = auth::testing::MakeCertificate(ca_, "service:admin");
  grpc::Status s;
  for (int i = 0; i < 40; ++i) {
    s = Define(Channel(new_ca.cert, client), "renewed");
    if (s.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(s.ok()) << s.error_message();
}

}  // namespace
}  // namespace takt
