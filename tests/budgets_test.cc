// The budgets context end to end through gRPC on the embedded log, with the
// repository's example files (deploy/examples): the enterprise, a budget
// record applied twice, ledger postings streamed twice (with a reversal of
// a document in the same export), shop-floor counts, then the plant's and
// its region's variances; the region lists the plant without a ledger.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "libs/testing/temp_dir.h"
#include "services/budgets/cli.h"
#include "services/enterprise/definitions_yaml.h"
#include "services/registry.h"
#include "takt/budgets/v1/budgets_service.grpc.pb.h"
#include "takt/enterprise/v1/enterprise_service.grpc.pb.h"
#include "google/protobuf/util/json_util.h"

namespace takt {
namespace {

namespace bv1 = ::takt::budgets::v1;
namespace ev1 = ::takt::enterprise::v1;

std::string Example(const std::string& name) {
  std::ifstream in(std::string(TAKT_SOURCE_DIR) + "/deploy/examples/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(BudgetsE2eTest, ExamplesThroughGrpc) {
  testing::TempDir dir;
  host::ServerOptions o;
  o.security.insecure = true;  // tests/security_test.cc covers TLS
  o.data_dir = dir.path();
  o.listen = "127.0.0.1:0";
  auto server = services::StartServer(o);
  ASSERT_TRUE(server.ok()) << server.status();
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string((*server)->port()),
                                     grpc::InsecureChannelCredentials());
  {
    auto defs = enterprise::ParseDefinitionsYaml(Example("enterprise.yaml"), "enterprise.yaml");
    ASSERT_TRUE(defs.ok()) << defs.status();
    grpc::ClientContext ctx;
    ev1::ApplyDefinitionsResponse resp;
    ASSERT_TRUE(ev1::EnterpriseService::NewStub(channel)->ApplyDefinitions(&ctx, *defs, &resp).ok());
  }
  auto stub = bv1::BudgetsService::NewStub(channel);
  auto budget = budgets::BudgetFromYaml(Example("budget.yaml"));
  ASSERT_TRUE(budget.ok()) << budget.status();
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext ctx;
    bv1::ApplyBudgetResponse resp;
    grpc::Status s = stub->ApplyBudget(&ctx, *budget, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.changed(), i == 0 ? 25u : 0u);
  }
  bv1::PostingBatch batch;
  batch.set_facility("detroit-1");
  std::stringstream lines(Example("postings.jsonl"));
  std::string line;
  while (std::getline(lines, line)) {
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, batch.add_postings()).ok()) << line;
  }
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext ctx;
    auto stream = stub->StreamPostings(&ctx);
    batch.set_batch_id(i + 1);
    ASSERT_TRUE(stream->Write(batch));
    bv1::PostingAck ack;
    ASSERT_TRUE(stream->Read(&ack));
    stream->WritesDone();
    ASSERT_TRUE(stream->Finish().ok());
    EXPECT_EQ(ack.accepted(), i == 0 ? 8u : 0u) << (ack.rejected_size() ? ack.rejected(0).reason() : "");
    EXPECT_EQ(ack.duplicates(), i == 0 ? 0u : 8u);
  }
  bv1::VarianceRequest q;
  q.set_facility("detroit-1");
  q.set_from_month("2026-11");
  q.set_to_month("2026-11");
  bv1::VarianceResponse plant;
  {
    grpc::ClientContext ctx;
    grpc::Status s = stub->GetVariances(&ctx, q, &plant);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(plant.currency(), "USD");
  EXPECT_EQ(plant.approved_version(), "original");
  // 312,400.50 + 298,310.00 + 94,880.00 + 31,950.25 + 129,400.00 + 45,120.80
  // (the die regrind reversed to the cent).
  EXPECT_EQ(plant.total().actual(), 91'206'155);
  EXPECT_EQ(plant.total().static_budget(), 90'420'000);
  // At the November budget rate 0.9215, rounded half to even once.
  EXPECT_EQ(plant.total().actual_reporting(), 84'046'472);
  // At the actual rate 0.9342: 85,204,790 cents of EUR, 1,158,318 more.
  EXPECT_EQ(plant.total().actual_at_actual_rate(), 85'204'790);
  EXPECT_EQ(plant.total().fx_effect(), 1'158'318);
  // The kaizen: planned from its start (29 of November's 30 days), not
  // measurable without October's production and postings, and said so.
  {
    grpc::ClientContext ctx;
    bv1::SavingsRequest sq;
    sq.set_facility("detroit-1");
    sq.set_from_day("2026-11-01");
    sq.set_to_day("2026-11-30");
    bv1::SavingsResponse savings;
    ASSERT_TRUE(stub->GetSavings(&ctx, sq, &savings).ok());
    ASSERT_EQ(savings.initiatives_size(), 1);
    EXPECT_EQ(savings.initiatives(0).stage(), bv1::IN_PROGRESS);
    EXPECT_EQ(savings.initiatives(0).planned(), 1'160'000);
    EXPECT_EQ(savings.initiatives(0).measured(), 0);
    EXPECT_TRUE(absl::StrContains(savings.initiatives(0).not_measured(), "baseline")) << savings.initiatives(0).not_measured();
  }
  // The region: Detroit's figures in euros; Stuttgart has no ledger.
  q.clear_facility();
  q.set_region("americas");
  bv1::VarianceResponse region;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->GetVariances(&ctx, q, &region).ok());
  }
  EXPECT_EQ(region.currency(), "EUR");
  EXPECT_EQ(region.total().actual(), 84'046'472);
  q.set_region("emea");
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(stub->GetVariances(&ctx, q, &region).ok());
  }
  ASSERT_EQ(region.without_ledger_size(), 1);
  EXPECT_EQ(region.without_ledger(0), "stuttgart-1");
  EXPECT_EQ(region.total().actual(), 0);
  // Bad requests get clear errors.
  q.set_region("");
  q.set_facility("detroit-1");
  q.set_from_month("2026-13");
  grpc::ClientContext ctx;
  bv1::VarianceResponse bad;
  grpc::Status s = stub->GetVariances(&ctx, q, &bad);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "from_month")) << s.error_message();
  (*server)->Shutdown();
}

}  // namespace
}  // namespace takt
