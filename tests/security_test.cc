// Transport security end to end (libs/auth): `takt serve` with TLS, mutual
// TLS for facility systems and services, bearer tokens for people; wrong
// CAs, expired certificates, certificates naming no principal, forged and
// misdirected tokens; facility systems confined to their own facility's
// streams; the recorded actor is the principal; certificates reloaded.
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/sync_stream.h>
#include <httplib.h>

#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "libs/auth/access.h"
#include "libs/auth/principal.h"
#include "nlohmann/json.hpp"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "libs/auth/test_certs.h"
#include "libs/common/proto_time.h"
#include "libs/testing/replay.h"
#include "libs/testing/temp_dir.h"
#include "services/enterprise/definitions_yaml.h"
#include "services/registry.h"
#include "takt/audit/v1/audit.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
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

// One person per role, bound where that role usually is, and one without
// any; the roles are granted by alice.
struct Caller {
  std::string subject;
  std::optional<auth::Binding> binding;
};

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
    o.http_listen = "127.0.0.1:0";
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
    // Alice administers the enterprise.
    s = SetRole(admin_, true, "alice", "administrator", "enterprise");
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
  // Grants (or revokes) a role as the channel's caller.
  grpc::Status SetRole(const std::shared_ptr<grpc::Channel>& channel, bool grant, const std::string& subject,
                       const std::string& role, const std::string& scope) const {
    ev1::RoleRequest r;
    r.set_subject(subject);
    r.set_role(role);
    r.set_scope(scope);
    r.set_reason("test");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ev1::RoleResponse resp;
    auto stub = ev1::EnterpriseService::NewStub(channel);
    return grant ? stub->GrantRole(&ctx, r, &resp) : stub->RevokeRole(&ctx, r, &resp);
  }
  // Grants one role to one person each (see Caller).
  std::vector<Caller> GrantEveryRole() const;
  // A person's channel: TLS and a token with `subject`.
  std::shared_ptr<grpc::Channel> Person(const std::string& subject) const {
    return Channel(ca_.cert, {}, Token({{"sub", subject}}));
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
    std::vector<std::string> out;
    for (const av1::AuditedEvent& e : Replay(facility, "scheduling")) out.push_back(e.actor());
    return out;
  }
  // A facility's events of one context, replayed by a service.
  std::vector<av1::AuditedEvent> Replay(const std::string& facility, const std::string& context) const {
    return testing::ReplayEvents(admin_, facility, context);
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
  std::string actor_of_bracket;
  bool forged = false;
  for (const av1::AuditedEvent& e : Replay("detroit-1", "enterprise")) {
    if (e.payload_json().find("bracket") != std::string::npos) actor_of_bracket = e.actor();
    if (e.payload_json().find("forged") != std::string::npos) forged = true;
  }
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
  // HTTPS serves the renewed certificate too: a client trusting only the new CA gets through.
  Write("new-ca.pem", new_ca.cert);
  bool verified = false;
  for (int i = 0; i < 40 && !verified; ++i) {
    httplib::SSLClient client("127.0.0.1", server_->http_port());
    client.set_ca_cert_path(Path("new-ca.pem").c_str());
    client.enable_server_certificate_verification(true);
    auto r = client.Get("/v1/regions", {{"Authorization", "Bearer " + Token()}});
    verified = static_cast<bool>(r);  // any answer: the handshake verified the new chain
    if (!verified) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(verified) << "HTTPS still serves the old certificate";
  // A broken renewal (a key that is not the certificate's) keeps the pair in force.
  Write("server.key", auth::testing::MakeCertificate(new_ca, "service:other").key);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  httplib::SSLClient still("127.0.0.1", server_->http_port());
  still.set_ca_cert_path(Path("new-ca.pem").c_str());
  still.enable_server_certificate_verification(true);
  auto r = still.Get("/v1/regions", {{"Authorization", "Bearer " + Token()}});
  EXPECT_TRUE(r) << httplib::to_string(r.error());
}

// ---- Access: every role x every RPC x own and foreign scope ---------------

using auth::Permission;

// How a method names what it touches.
enum class Target {
  kEnterprise,         // nothing: the enterprise (the model, role bindings)
  kFacility,           // field `facility` (and each streamed batch's)
  kScope,              // field `scope`: "facilities/F" or "regions/R"
  kBareScope,          // field `scope`: a facility or region id
  kFacilityOrRegion,   // field `facility` or field `region`
  kParent,             // field `parent`: "facilities/F", "regions/R" or "enterprise"
  kName,               // field `name`: the same
  kAnywhere,           // nothing: allowed to whoever has the permission somewhere (products)
};

// The policy, written down independently of the server (libs/auth/access.h
// has the roles): what each method needs. A method the server serves that
// is missing here fails the test.
const std::map<std::string, std::pair<Permission, Target>>& Policy() {
  static const auto* policy = new std::map<std::string, std::pair<Permission, Target>>{
      {"takt.enterprise.v1.EnterpriseService/ApplyDefinitions", {Permission::kAdminister, Target::kEnterprise}},
      {"takt.enterprise.v1.EnterpriseService/GrantRole", {Permission::kAdminister, Target::kEnterprise}},
      {"takt.enterprise.v1.EnterpriseService/RevokeRole", {Permission::kAdminister, Target::kEnterprise}},
      {"takt.enterprise.v1.EnterpriseService/ListRoleBindings", {Permission::kAdminister, Target::kEnterprise}},
      {"takt.enterprise.v1.EnterpriseService/ListRegions", {Permission::kRead, Target::kParent}},
      {"takt.enterprise.v1.EnterpriseService/GetRegion", {Permission::kRead, Target::kName}},
      {"takt.enterprise.v1.EnterpriseService/ListFacilities", {Permission::kRead, Target::kParent}},
      {"takt.enterprise.v1.EnterpriseService/GetFacility", {Permission::kRead, Target::kName}},
      {"takt.enterprise.v1.EnterpriseService/ListAreas", {Permission::kRead, Target::kParent}},
      {"takt.enterprise.v1.EnterpriseService/ListWorkCenters", {Permission::kRead, Target::kParent}},
      {"takt.enterprise.v1.EnterpriseService/ListWorkUnits", {Permission::kRead, Target::kParent}},
      {"takt.enterprise.v1.EnterpriseService/ListProducts", {Permission::kRead, Target::kAnywhere}},
      {"takt.enterprise.v1.EnterpriseService/GetProduct", {Permission::kRead, Target::kAnywhere}},
      {"takt.scheduling.v1.FacilityIngestService/StreamObservations", {Permission::kOperate, Target::kFacility}},
      {"takt.scheduling.v1.SchedulingService/Execute", {Permission::kOperate, Target::kFacility}},
      {"takt.scheduling.v1.SchedulingService/ProposeSchedule", {Permission::kOperate, Target::kFacility}},
      {"takt.scheduling.v1.SchedulingService/CommitSchedule", {Permission::kOperate, Target::kFacility}},
      {"takt.scheduling.v1.SchedulingService/ListWorkOrders", {Permission::kRead, Target::kFacility}},
      {"takt.quality.v1.QualityService/ApplyPlans", {Permission::kQuality, Target::kFacility}},
      {"takt.quality.v1.QualityService/StreamSamples", {Permission::kQuality, Target::kFacility}},
      {"takt.quality.v1.QualityService/ApproveLimits", {Permission::kQuality, Target::kFacility}},
      {"takt.quality.v1.QualityService/GetChart", {Permission::kRead, Target::kFacility}},
      {"takt.quality.v1.QualityService/GetCapability", {Permission::kRead, Target::kScope}},
      {"takt.quality.v1.QualityService/GetRolledThroughputYield", {Permission::kRead, Target::kScope}},
      {"takt.quality.v1.QualityService/ExecuteNcr", {Permission::kQuality, Target::kFacility}},
      {"takt.quality.v1.QualityService/ListNcrs", {Permission::kRead, Target::kFacility}},
      {"takt.quality.v1.QualityService/ListCharacteristics", {Permission::kRead, Target::kScope}},
      {"takt.staffing.v1.StaffingService/ApplyStaff", {Permission::kPersonalData, Target::kFacility}},
      {"takt.staffing.v1.StaffingService/StreamAttendance", {Permission::kPersonalData, Target::kFacility}},
      {"takt.staffing.v1.StaffingService/AssignRoster", {Permission::kOperate, Target::kFacility}},
      {"takt.staffing.v1.StaffingService/GetCoverage", {Permission::kRead, Target::kFacility}},
      {"takt.staffing.v1.StaffingService/ListExpiringCertificates", {Permission::kRead, Target::kBareScope}},
      {"takt.staffing.v1.StaffingService/GetPerson", {Permission::kPersonalData, Target::kFacility}},
      {"takt.staffing.v1.StaffingService/ExportPeople", {Permission::kPersonalData, Target::kFacility}},
      {"takt.staffing.v1.StaffingService/ErasePerson", {Permission::kPersonalData, Target::kFacility}},
      {"takt.audit.v1.AuditService/Replay", {Permission::kAudit, Target::kFacility}},
      {"takt.audit.v1.AuditService/Verify", {Permission::kAudit, Target::kFacility}},
      {"takt.audit.v1.AuditService/Explain", {Permission::kAudit, Target::kScope}},
      {"takt.rollups.v1.RollupService/QueryKpis", {Permission::kRead, Target::kScope}},
      {"takt.budgets.v1.BudgetsService/ApplyBudget", {Permission::kOperate, Target::kFacility}},
      {"takt.budgets.v1.BudgetsService/StreamPostings", {Permission::kOperate, Target::kFacility}},
      {"takt.budgets.v1.BudgetsService/GetVariances", {Permission::kRead, Target::kFacilityOrRegion}},
      {"takt.budgets.v1.BudgetsService/ExplainVariances", {Permission::kAudit, Target::kFacilityOrRegion}},
      {"takt.budgets.v1.BudgetsService/GetSavings", {Permission::kRead, Target::kFacilityOrRegion}},
      {"takt.operations.v1.OperationsService/Backup", {Permission::kAdminister, Target::kEnterprise}},
  };
  return *policy;
}

// The example enterprise: detroit-1 in americas, stuttgart-1 in emea.
std::optional<std::string> ExampleRegionOf(const std::string& facility) {
  if (facility == "detroit-1") return "americas";
  if (facility == "stuttgart-1") return "emea";
  return std::nullopt;
}

// Calls `method` with an otherwise empty request naming `target`, as the
// channel's caller, whatever its kind (unary, server or bidi streaming);
// the status it ends with.
grpc::Status CallNaming(const std::shared_ptr<grpc::Channel>& channel, const google::protobuf::MethodDescriptor& m,
                        const std::string& path, Target kind, const auth::Scope& target) {
  std::unique_ptr<google::protobuf::Message> request(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(m.input_type())->New());
  const google::protobuf::Descriptor* d = m.input_type();
  const google::protobuf::Reflection* r = request->GetReflection();
  auto set = [&](const char* field, const std::string& value) {
    const google::protobuf::FieldDescriptor* f = d->FindFieldByName(field);
    ASSERT_NE(f, nullptr) << path << " has no field " << field;
    r->SetString(request.get(), f, value);
  };
  const bool facility = target.kind == auth::Scope::Kind::kFacility;
  switch (kind) {
    case Target::kEnterprise: break;
    case Target::kAnywhere: break;
    case Target::kFacility: set("facility", target.id); break;
    case Target::kScope: set("scope", target.Name()); break;
    case Target::kBareScope: set("scope", target.id); break;
    case Target::kFacilityOrRegion: set(facility ? "facility" : "region", target.id); break;
    case Target::kParent: set("parent", target.Name()); break;
    case Target::kName: set("name", target.Name()); break;
  }
  const std::string bytes = request->SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer in(&slice, 1), out;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  if (m.client_streaming()) {
    const grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::BIDI_STREAMING);
    std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
        grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(channel.get(), rpc,
                                                                                             &ctx));
    stream->Write(in);
    stream->WritesDone();
    while (stream->Read(&out)) {
    }
    return stream->Finish();
  }
  if (m.server_streaming()) {
    const grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::SERVER_STREAMING);
    std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
        grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(channel.get(), rpc, &ctx, in));
    while (reader->Read(&out)) {
    }
    return reader->Finish();
  }
  const grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(channel.get(), rpc, &ctx, in, &out);
}

// Whether `caller` may use `permission` on `target` (the example enterprise),
// for a method that names its target as `kind` says.
bool Expected(const Caller& caller, Permission permission, Target kind, const auth::Scope& target) {
  return caller.binding && auth::RoleGrants(caller.binding->role, permission) &&
         (kind == Target::kAnywhere || auth::Covers(caller.binding->scope, target, ExampleRegionOf));
}

// The HTTP path of a route template naming `target`, or nothing when the
// route cannot name it. Ids the target does not give (a characteristic, a
// person) are "x": authorization comes before any lookup.
std::optional<std::string> PathNaming(const std::string& path, const auth::Scope& target) {
  using Kind = auth::Scope::Kind;
  std::string out;
  bool named = false;
  auto name = [&](Kind kind, const std::string& value) {
    if (target.kind != kind) return false;
    out += value;
    named = true;
    return true;
  };
  for (size_t i = 0; i < path.size();) {
    if (path[i] != '{') {
      out += path[i++];
      continue;
    }
    const size_t close = path.find('}', i);
    const std::string var = path.substr(i + 1, close - i - 1);
    i = close + 1;
    const size_t eq = var.find('=');
    const std::string field = var.substr(0, eq);
    const std::string pattern = eq == std::string::npos ? "" : var.substr(eq + 1);
    bool ok = true;
    if (pattern == "enterprise") {
      ok = name(Kind::kEnterprise, "enterprise");
    } else if (absl::StartsWith(pattern, "regions/")) {
      ok = name(Kind::kRegion, target.Name());
    } else if (absl::StartsWith(pattern, "facilities/")) {
      ok = name(Kind::kFacility, target.Name());
    } else if (field == "facility") {
      ok = name(Kind::kFacility, target.id);
    } else if (field == "region") {
      ok = name(Kind::kRegion, target.id);
    } else if (!pattern.empty()) {
      for (absl::string_view segment : absl::StrSplit(pattern, '/')) {
        absl::StrAppend(&out, out.back() == '/' ? "" : "/", segment == "*" || segment == "**" ? "x" : segment);
      }
    } else {
      out += "x";
    }
    if (!ok) return std::nullopt;
  }
  if (!named) {
    // A route that names nothing reads the enterprise (/v1/enterprise:savings, /v1/regions).
    if (target.kind != Kind::kEnterprise) return std::nullopt;
  }
  return out;
}

const std::vector<auth::Scope>& ScopeTargets() {
  static const auto* targets = new std::vector<auth::Scope>{
      auth::Scope::Facility("detroit-1"), auth::Scope::Facility("stuttgart-1"), auth::Scope::Region("americas"),
      auth::Scope::Region("emea"), auth::Scope::Enterprise()};
  return *targets;
}

std::vector<Caller> SecurityTest::GrantEveryRole() const {
  std::vector<Caller> callers = {{"nobody", std::nullopt}};
  const std::map<auth::Role, std::string> scopes = {
      {auth::Role::kPlantManager, "facilities/detroit-1"},  {auth::Role::kRegionalDirector, "regions/americas"},
      {auth::Role::kEnterpriseDirector, "enterprise"},      {auth::Role::kQualityEngineer, "facilities/detroit-1"},
      {auth::Role::kStaffingAdministrator, "regions/americas"}, {auth::Role::kAuditor, "facilities/detroit-1"},
      {auth::Role::kAdministrator, "enterprise"}};
  for (auth::Role role : auth::kAllRoles) {
    const std::string subject = absl::StrCat("matrix-", auth::RoleName(role));
    const std::string scope = scopes.at(role);
    grpc::Status granted = SetRole(Channel(ca_.cert, {}, Token()), true, subject, std::string(auth::RoleName(role)),
                                   scope);
    EXPECT_TRUE(granted.ok()) << granted.error_message();
    callers.push_back({subject, auth::Binding{subject, role, *auth::ParseScope(scope)}});
  }
  return callers;
}

TEST_F(SecurityTest, EveryRoleIsAllowedExactlyWhatItsBindingGrantsOnEveryRpc) {
  const std::vector<Caller> callers = GrantEveryRole();
  const std::vector<auth::Scope> facility_targets = {auth::Scope::Facility("detroit-1"),
                                                     auth::Scope::Facility("stuttgart-1")};
  const std::vector<auth::Scope>& scope_targets = ScopeTargets();
  int checked = 0, allowed = 0, leaks = 0;
  std::set<std::string> covered;
  for (const std::string& service_name : server_->services()) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service_name);
    ASSERT_NE(service, nullptr) << service_name;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor& m = *service->method(i);
      const std::string name = absl::StrCat(service_name, "/", m.name());
      auto policy = Policy().find(name);
      ASSERT_NE(policy, Policy().end()) << name << " is served but has no line in the policy table of this test";
      covered.insert(name);
      const auto [permission, kind] = policy->second;
      std::vector<auth::Scope> targets = {auth::Scope::Enterprise()};
      if (kind == Target::kFacility) targets = facility_targets;
      if (kind == Target::kScope || kind == Target::kBareScope || kind == Target::kFacilityOrRegion ||
          kind == Target::kParent || kind == Target::kName) {
        targets = scope_targets;
      }
      const std::string path = absl::StrCat("/", name);
      for (const Caller& caller : callers) {
        auto channel = Person(caller.subject);
        for (const auth::Scope& target : targets) {
          const bool expected = Expected(caller, permission, kind, target);
          grpc::Status s = CallNaming(channel, m, path, kind, target);
          const bool denied = s.error_code() == grpc::StatusCode::PERMISSION_DENIED;
          ++checked;
          allowed += expected ? 1 : 0;
          if (expected == denied) ++leaks;
          EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
          EXPECT_EQ(denied, !expected) << caller.subject << " calling " << name << " on " << target.Name() << ": "
                                       << s.error_message();
          if (denied) {
            // The refusal says who, what and where.
            EXPECT_TRUE(absl::StrContains(s.error_message(), "person:" + caller.subject)) << s.error_message();
            EXPECT_TRUE(absl::StrContains(s.error_message(), auth::PermissionName(permission))) << s.error_message();
          }
        }
      }
      // A facility system reaches its own facility's ingest, nothing else.
      auto detroit = Channel(ca_.cert, auth::testing::MakeCertificate(ca_, "facility:detroit-1"));
      for (const auth::Scope& target : targets) {
        const bool expected = m.client_streaming() && target == auth::Scope::Facility("detroit-1");
        grpc::Status s = CallNaming(detroit, m, path, kind, target);
        ++checked;
        EXPECT_EQ(s.error_code() == grpc::StatusCode::PERMISSION_DENIED, !expected)
            << "facility:detroit-1 calling " << name << " on " << target.Name() << ": " << s.error_message();
      }
    }
  }
  EXPECT_EQ(covered.size(), Policy().size()) << "the policy table names methods nobody serves";
  EXPECT_EQ(leaks, 0);
  EXPECT_GT(allowed, 0);
  std::cout << "access matrix: " << checked << " calls over " << covered.size() << " methods, " << allowed
            << " allowed by a binding, " << leaks << " leaks\n";
}

TEST_F(SecurityTest, EveryRoleIsAllowedExactlyWhatItsBindingGrantsOnEveryHttpRoute) {
  const std::vector<Caller> callers = GrantEveryRole();
  httplib::SSLClient client("127.0.0.1", server_->http_port());
  client.set_ca_cert_path(Path("ca.pem").c_str());
  client.enable_server_certificate_verification(true);
  std::map<std::string, std::string> tokens;
  for (const Caller& c : callers) tokens[c.subject] = Token({{"sub", c.subject}});
  int checked = 0, allowed = 0, leaks = 0;
  std::set<std::string> routes;
  for (const host::HttpRoute& route : server_->http_routes()) {
    auto policy = Policy().find(route.method.substr(1));
    ASSERT_NE(policy, Policy().end()) << route.method << " has no line in the policy table of this test";
    const auto [permission, kind] = policy->second;
    int named = 0;
    for (const auth::Scope& target : ScopeTargets()) {
      std::optional<std::string> path = PathNaming(route.path, target);
      if (!path) continue;
      ++named;
      routes.insert(route.verb + " " + route.path);
      for (const Caller& caller : callers) {
        httplib::Headers headers = {{"Authorization", "Bearer " + tokens[caller.subject]}};
        httplib::Result r = route.verb == "POST" ? client.Post(path->c_str(), headers, "{}", "application/json")
                                                 : client.Get(path->c_str(), headers);
        ASSERT_TRUE(r) << route.path << ": " << httplib::to_string(r.error());
        const bool expected = Expected(caller, permission, kind, target);
        const bool denied = r->status == 403;
        ++checked;
        allowed += expected ? 1 : 0;
        if (expected == denied) ++leaks;
        EXPECT_NE(r->status, 401) << r->body;
        EXPECT_EQ(denied, !expected) << caller.subject << " " << route.verb << " " << *path << ": " << r->status
                                     << " " << r->body;
      }
    }
    EXPECT_GT(named, 0) << route.path << " names none of the test's scopes";
  }
  EXPECT_EQ(leaks, 0);
  EXPECT_GT(allowed, 0);
  EXPECT_GE(routes.size(), 30u);
  std::cout << "HTTP access matrix: " << checked << " requests over " << routes.size() << " routes, " << allowed
            << " allowed by a binding, " << leaks << " leaks\n";
}

TEST_F(SecurityTest, RoleBindingsAreRecordedRevocableAndOnlyAdministratorsGrantThem) {
  auto bob = Person("bob");
  auto alice = Person("alice");
  // Bob has no role: he may not grant himself one, nor list everyone's.
  grpc::Status s = SetRole(bob, true, "bob", "enterprise-director", "enterprise");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  // Bad bindings are refused with the field.
  s = SetRole(alice, true, "bob", "root", "enterprise");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "regional-director")) << s.error_message();
  s = SetRole(alice, true, "bob", "regional-director", "regions/atlantis");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  s = SetRole(alice, true, "bob", "administrator", "regions/emea");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  // Alice makes him Europe's director: he reads Stuttgart, not Detroit, not the enterprise.
  ASSERT_TRUE(SetRole(alice, true, "bob", "regional-director", "regions/emea").ok());
  auto query = [&](const std::string& scope) {
    const google::protobuf::MethodDescriptor* m =
        google::protobuf::DescriptorPool::generated_pool()->FindMethodByName("takt.rollups.v1.RollupService.QueryKpis");
    return CallNaming(bob, *m, "/takt.rollups.v1.RollupService/QueryKpis", Target::kScope, *auth::ParseScope(scope))
        .error_code();
  };
  EXPECT_NE(query("regions/emea"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(query("facilities/stuttgart-1"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(query("facilities/detroit-1"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(query("enterprise"), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(query("regions/americas"), grpc::StatusCode::PERMISSION_DENIED);
  // He may list his own bindings.
  {
    ev1::ListRoleBindingsRequest r;
    r.set_subject("bob");
    ev1::ListRoleBindingsResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(ev1::EnterpriseService::NewStub(bob)->ListRoleBindings(&ctx, r, &resp).ok());
    ASSERT_EQ(resp.bindings_size(), 1);
    EXPECT_EQ(resp.bindings(0).scope(), "regions/emea");
  }
  // Revoked: denied again at once.
  ASSERT_TRUE(SetRole(alice, false, "bob", "regional-director", "regions/emea").ok());
  EXPECT_EQ(query("regions/emea"), grpc::StatusCode::PERMISSION_DENIED);
  // The grant and the revocation are events of the enterprise stream, by alice.
  std::vector<std::string> bob_events;
  for (const av1::AuditedEvent& e : Replay("detroit-1", "enterprise")) {
    if (absl::StrContains(e.payload_json(), "\"bob\"")) {
      bob_events.push_back(absl::StrCat(e.event_type(), " by ", e.actor()));
    }
  }
  EXPECT_EQ(bob_events, (std::vector<std::string>{"takt.enterprise.v1.RoleGranted by person:alice",
                                                  "takt.enterprise.v1.RoleRevoked by person:alice"}));
}

TEST_F(SecurityTest, HttpIsTlsWithTokensAndAuthorizedAsGrpcIs) {
  ASSERT_GT(server_->http_port(), 0);
  ASSERT_TRUE(SetRole(Person("alice"), true, "erin", "regional-director", "regions/emea").ok());
  httplib::SSLClient client("127.0.0.1", server_->http_port());
  client.set_ca_cert_path(Path("ca.pem").c_str());
  client.enable_server_certificate_verification(true);
  const std::string query = ":queryKpis?kpis=oee,availability&from=2026-01-05&to=2026-01-11&by=day";
  auto get = [&](const std::string& path, const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client.Get(path.c_str(), headers);
  };
  auto error_status = [](const httplib::Result& r) {
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].value("status", "") : std::string("(not a JSON error)");
  };
  // No token, a forged one: 401 with the reason, as JSON.
  auto r = get("/v1/regions/emea" + query, "");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(error_status(r), "UNAUTHENTICATED");
  const Pem other = auth::testing::MakeRsaKey();
  r = get("/v1/regions/emea" + query, Token({{"sub", "erin"}}, 600, "RS256", &other.key));
  EXPECT_EQ(r->status, 401);
  // Erin reads her region, not another, not the enterprise.
  const std::string erin = Token({{"sub", "erin"}});
  r = get("/v1/regions/emea" + query, erin);
  EXPECT_EQ(r->status, 200) << r->body;
  auto answer = nlohmann::json::parse(r->body, nullptr, false);
  EXPECT_TRUE(answer.is_object()) << r->body;
  r = get("/v1/regions/americas" + query, erin);
  EXPECT_EQ(r->status, 403) << r->body;
  EXPECT_EQ(error_status(r), "PERMISSION_DENIED");
  EXPECT_TRUE(absl::StrContains(r->body, "person:erin")) << r->body;
  // The google.rpc details as AIP-193's JSON: a program tells "not granted"
  // from other refusals without reading the message.
  {
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j["error"].contains("details")) << r->body;
    const auto& info = j["error"]["details"][0];
    EXPECT_EQ(info.value("@type", ""), "type.googleapis.com/google.rpc.ErrorInfo") << r->body;
    EXPECT_EQ(info.value("reason", ""), "NOT_GRANTED") << r->body;
    EXPECT_EQ(info.value("domain", ""), "takt.dev") << r->body;
  }
  r = get("/v1/enterprise" + query, erin);
  EXPECT_EQ(r->status, 403) << r->body;
  r = get("/v1/facilities/detroit-1/workUnits/press-1" + query, erin);
  EXPECT_EQ(r->status, 403) << r->body;
  // Bad input: an unknown parameter, a bad date, a route that does not exist.
  r = get("/v1/regions/emea:queryKpis?kpis=oee&from=2026-01-05&to=2026-01-11&colour=red", erin);
  EXPECT_EQ(r->status, 400);
  EXPECT_TRUE(absl::StrContains(r->body, "colour")) << r->body;
  r = get("/v1/regions/emea:queryKpis?kpis=oee&from=yesterday&to=2026-01-11", erin);
  EXPECT_EQ(r->status, 400) << r->body;
  EXPECT_EQ(error_status(r), "INVALID_ARGUMENT");
  {
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.is_object() && j["error"].contains("details")) << r->body;
    bool named = false;
    for (const auto& d : j["error"]["details"]) {
      if (d.value("@type", "") != "type.googleapis.com/google.rpc.BadRequest") continue;
      named = d["fieldViolations"][0].value("field", "") == "from";
    }
    EXPECT_TRUE(named) << r->body;
  }
  r = get("/v1/regions/emea:dropTables", erin);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(error_status(r), "NOT_FOUND");
  // A network client cannot name its principal the way the gateway does.
  {
    rollups::v1::QueryKpisRequest q;
    q.set_scope("regions/americas");
    q.add_kpis("oee");
    q.set_from("2026-01-05");
    q.set_to("2026-01-11");
    grpc::ClientContext ctx;
    ctx.AddMetadata(auth::kGatewayPrincipalMetadata, "service:takt");
    rollups::v1::QueryKpisResponse resp;
    grpc::Status s = rollups::v1::RollupService::NewStub(Person("erin"))->QueryKpis(&ctx, q, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  }
  // Plaintext to the TLS port gets nothing.
  httplib::Client plain("127.0.0.1", server_->http_port());
  plain.set_connection_timeout(2);
  plain.set_read_timeout(2);
  auto p = plain.Get(("/v1/regions/emea" + query).c_str());
  EXPECT_TRUE(!p || p->status >= 400);
}

}  // namespace
}  // namespace takt
