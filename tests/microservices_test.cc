// The same plants, simulated through the public API, in two deployments of
// the real `takt` binary: one `takt serve` on the embedded log, and the
// microservices mode (a `takt kafka-dev` mock cluster and one process each
// for enterprise, scheduling and rollups). Every director query must give
// the same answer in both, also after the rollups process is replaced by a
// fresh one that rebuilds its projection from the log.
#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "google/protobuf/util/message_differencer.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "libs/kpi/registry.h"
#include "libs/testing/child_process.h"
#include "libs/testing/kafka_topics.h"
#include "libs/testing/temp_dir.h"
#include "takt/budgets/v1/budgets_service.grpc.pb.h"
#include "takt/quality/v1/quality_service.grpc.pb.h"
#include "takt/rollups/v1/rollups.grpc.pb.h"
#include "takt/scheduling/v1/planning_service.grpc.pb.h"

namespace takt {
namespace {

using std::chrono::seconds;
using testing::ChildProcess;
namespace rv1 = ::takt::rollups::v1;
namespace qv1 = ::takt::quality::v1;
namespace bv1 = ::takt::budgets::v1;
namespace schv1 = ::takt::scheduling::v1;

constexpr char kStart[] = "2026-03-02";
constexpr char kEnd[] = "2026-03-04";  // 3 production days

class MicroservicesTest : public ::testing::Test {
 protected:
  // Starts `takt serve ARGS --listen 127.0.0.1:0` and returns its address.
  std::string Serve(const std::string& name, std::vector<std::string> args) {
    std::vector<std::string> argv = {TAKT_BINARY, "serve", "--insecure", "--listen", "127.0.0.1:0",
                                     "--data-dir", dir_.path() + "/" + name};
    argv.insert(argv.end(), args.begin(), args.end());
    auto& p = children_.emplace_back(
        std::make_unique<ChildProcess>(argv, dir_.path() + "/" + name + ".out"));
    auto port = p->WaitForOutput("takt serving on port ", seconds(60));
    EXPECT_TRUE(port.has_value()) << name << ": " << p->Output();
    if (!port) return "";
    return "127.0.0.1:" + port->substr(0, port->find(' '));
  }

  // Runs `takt simulate` against `target` and waits for its summary (which
  // it prints once the rollups have caught up with the log).
  void Simulate(const std::string& target) {
    ChildProcess sim({TAKT_BINARY, "simulate", "--target", target, "--facilities", "3", "--days",
                      "3", "--seed", "11", "--start", kStart},
                     dir_.path() + "/simulate.out");
    auto code = sim.Wait(seconds(120));
    ASSERT_TRUE(code.has_value()) << sim.Output();
    EXPECT_EQ(*code, 0) << sim.Output();
    EXPECT_NE(sim.Output().find("0 events not yet applied"), std::string::npos) << sim.Output();
  }

  // `takt quality simulate` on the same plants and days.
  void QualitySimulate(const std::string& target) {
    ChildProcess sim({TAKT_BINARY, "quality", "simulate", "--target", target, "--facilities", "3",
                      "--days", "3", "--seed", "11", "--start", kStart},
                     dir_.path() + "/quality-simulate.out");
    auto code = sim.Wait(seconds(120));
    ASSERT_TRUE(code.has_value()) << sim.Output();
    EXPECT_EQ(*code, 0) << sim.Output();
    EXPECT_NE(sim.Output().find("rule violations"), std::string::npos) << sim.Output();
  }

  // `takt staffing simulate` on the same plants and days.
  void StaffingSimulate(const std::string& target) {
    ChildProcess sim({TAKT_BINARY, "staffing", "simulate", "--target", target, "--facilities", "3",
                      "--days", "3", "--seed", "11", "--start", kStart},
                     dir_.path() + "/staffing-simulate.out");
    auto code = sim.Wait(seconds(120));
    ASSERT_TRUE(code.has_value()) << sim.Output();
    EXPECT_EQ(*code, 0) << sim.Output();
    EXPECT_NE(sim.Output().find("Safety and labour by region"), std::string::npos) << sim.Output();
  }

  // The answers a director's dashboard would fetch, without the log
  // positions (which differ between the embedded log and Kafka).
  std::vector<rv1::QueryKpisResponse> Dashboard(const std::string& rollups_address) {
    auto stub = rv1::RollupService::NewStub(
        grpc::CreateChannel(rollups_address, grpc::InsecureChannelCredentials()));
    std::vector<rv1::QueryKpisRequest> requests;
    auto add = [&](const std::string& scope, const std::string& by, bool pareto) {
      rv1::QueryKpisRequest r;
      r.set_scope(scope);
      r.set_from(kStart);
      r.set_to(kEnd);
      r.set_by(by);
      r.set_downtime_pareto(pareto);
      for (const auto& k : kpi::Registry()) r.add_kpis(k.id);
      // The quality context's (its own process on Kafka).
      for (const char* k : {"quality_fpy", "quality_dpu", "quality_dpmo", "quality_ppm",
                            "spc_violations"}) {
        r.add_kpis(k);
      }
      // The staffing context's (its own process on Kafka too).
      for (const char* k : {"safety_trir", "safety_dart", "hours_worked", "staffing_coverage",
                            "certification_compliance", "overtime_ratio", "absenteeism"}) {
        r.add_kpis(k);
      }
      requests.push_back(r);
    };
    add("enterprise", "child", true);
    add("enterprise", "day", false);
    for (const char* region : {"regions/americas", "regions/emea", "regions/apac"}) {
      add(region, "child", true);
    }
    for (const char* plant : {"facilities/detroit-1", "facilities/stuttgart-1",
                              "facilities/shanghai-1"}) {
      add(plant, "shift", true);
      add(plant, "hour", false);
    }
    std::vector<rv1::QueryKpisResponse> out;
    for (const auto& r : requests) {
      rv1::QueryKpisResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + seconds(30));
      grpc::Status s = stub->QueryKpis(&ctx, r, &resp);
      EXPECT_TRUE(s.ok()) << r.scope() << ": " << s.error_message();
      EXPECT_EQ(resp.lag_events(), 0u) << r.scope();
      EXPECT_GT(resp.positions_size(), 0) << r.scope();
      resp.clear_positions();
      resp.clear_lag_events();
      out.push_back(std::move(resp));
    }
    return out;
  }

  static void ExpectSame(const std::vector<rv1::QueryKpisResponse>& a,
                         const std::vector<rv1::QueryKpisResponse>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      std::string diff;
      google::protobuf::util::MessageDifferencer d;
      d.ReportDifferencesToString(&diff);
      EXPECT_TRUE(d.Compare(a[i], b[i])) << "query " << i << ": " << diff;
    }
  }

  testing::TempDir dir_;
  std::vector<std::unique_ptr<ChildProcess>> children_;
};

TEST_F(MicroservicesTest, SeparateProcessesOnKafkaAnswerLikeTheEmbeddedLog) {
  // Embedded: everything in one process.
  const std::string embedded = Serve("embedded", {});
  ASSERT_FALSE(embedded.empty());
  Simulate(embedded);  // quality's and staffing's parts too (one address for every service)
  const auto expected = Dashboard(embedded);
  ASSERT_FALSE(expected.empty());
  ASSERT_GT(expected[0].rows_size(), 0);
  ASSERT_GT(expected[0].total().elements_size(), 0);

  // Microservices: a mock cluster and one process per service.
  ChildProcess kafka({TAKT_BINARY, "kafka-dev", "--partitions", "3", "--address-file",
                      dir_.path() + "/brokers"},
                     dir_.path() + "/kafka.out");
  auto brokers = kafka.WaitForOutput("127.0.0.1:", seconds(30));
  ASSERT_TRUE(brokers.has_value()) << kafka.Output();
  const std::string bootstrap = "127.0.0.1:" + *brokers;
  const std::string enterprise =
      Serve("enterprise", {"--kafka-brokers", bootstrap, "--services", "enterprise", "--owner", "ent"});
  const std::string scheduling =
      Serve("scheduling", {"--kafka-brokers", bootstrap, "--services", "scheduling", "--owner", "sch"});
  const std::string rollups = Serve("rollups", {"--kafka-brokers", bootstrap, "--services", "rollups"});
  const std::string quality =
      Serve("quality", {"--kafka-brokers", bootstrap, "--services", "quality", "--owner", "qa"});
  const std::string staffing =
      Serve("staffing", {"--kafka-brokers", bootstrap, "--services", "staffing", "--owner", "hr"});
  const std::string budgets =
      Serve("budgets", {"--kafka-brokers", bootstrap, "--services", "budgets", "--owner", "fin"});
  ASSERT_FALSE(enterprise.empty() || scheduling.empty() || rollups.empty() || quality.empty() ||
               staffing.empty() || budgets.empty());
  const std::string targets = "enterprise=" + enterprise + ",scheduling=" + scheduling +
                              ",rollups=" + rollups;
  Simulate(targets);
  QualitySimulate("quality=" + quality + ",rollups=" + rollups);
  StaffingSimulate("staffing=" + staffing + ",rollups=" + rollups);
  // Budgets as its own process: it reads the production counts from
  // scheduling's topic; each region's variances equal the single process's.
  {
    ChildProcess sim({TAKT_BINARY, "budgets", "simulate", "--target", "budgets=" + budgets, "--facilities", "3",
                      "--days", "3", "--seed", "11", "--start", kStart},
                     dir_.path() + "/budgets-simulate.out");
    auto code = sim.Wait(seconds(120));
    ASSERT_TRUE(code.has_value()) << sim.Output();
    EXPECT_EQ(*code, 0) << sim.Output();
    auto variances = [&](const std::string& address, const std::string& region) {
      auto stub = bv1::BudgetsService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      bv1::VarianceRequest q;
      q.set_region(region);
      q.set_from_month(std::string(kStart).substr(0, 7));
      q.set_to_month(std::string(kEnd).substr(0, 7));
      q.set_by_month(true);
      bv1::VarianceResponse r;
      grpc::ClientContext ctx;
      grpc::Status st = stub->GetVariances(&ctx, q, &r);
      EXPECT_TRUE(st.ok()) << address << ": " << st.error_message();
      return r;
    };
    // Crew-aware planning in the scheduling process reads staffing's topic.
    auto propose = [&](const std::string& address) {
      auto stub = schv1::SchedulingService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      schv1::ScheduleRequest q;
      q.set_facility("detroit-1");
      q.set_respect_crew(true);
      q.set_horizon_days(3);
      q.set_max_iterations(10);
      q.mutable_horizon_start()->set_seconds(1772431200);  // 2026-03-02T06:00:00Z
      schv1::Schedule r;
      grpc::ClientContext ctx;
      grpc::Status st = stub->ProposeSchedule(&ctx, q, &r);
      EXPECT_TRUE(st.ok()) << address << ": " << st.error_message();
      return r;
    };
    const schv1::Schedule crew = propose(embedded);
    EXPECT_TRUE(crew.respect_crew());
    EXPECT_EQ(propose(scheduling).SerializeAsString(), crew.SerializeAsString());
    for (const char* region : {"americas", "emea", "apac"}) {
      const bv1::VarianceResponse want = variances(embedded, region);
      EXPECT_GT(want.total().actual(), 0) << region;
      EXPECT_GT(want.total().actual_output(), 0) << region;
      EXPECT_EQ(variances(budgets, region).SerializeAsString(), want.SerializeAsString()) << region;
    }
  }
  // Personal data never reaches a Kafka topic in the clear: the simulated
  // people's names ("Operator 1 of ... (synthetic)") and contacts are
  // sealed before they are appended, while the qualification names beside
  // them are plain (the control that the scan reads staffing's records).
  {
    size_t messages = 0;
    auto bytes = testing::ReadAllTopics(bootstrap, &messages);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_GT(messages, 1000u);
    EXPECT_NE(bytes->find("Press operator"), std::string::npos);
    EXPECT_EQ(bytes->find("(synthetic)"), std::string::npos);
    EXPECT_EQ(bytes->find("op1@"), std::string::npos);
  }
  // Capability pooled over the enterprise: the quality process keeps its own
  // projection of the capability moments (no rollups in it), and answers
  // like the single process.
  {
    auto capability = [&](const std::string& address) {
      auto stub = qv1::QualityService::NewStub(
          grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      qv1::CapabilityRequest r;
      r.set_characteristic("bore-dia");
      r.set_scope("enterprise");
      r.set_from(kStart);
      r.set_to(kEnd);
      qv1::Capability c;
      grpc::ClientContext ctx;
      grpc::Status s = stub->GetCapability(&ctx, r, &c);
      EXPECT_TRUE(s.ok()) << address << ": " << s.error_message();
      return c;
    };
    const qv1::Capability want = capability(embedded);
    // 3 plants x 3 days x a subgroup of 5 every 30 min, less what falls
    // outside the plants' local production days.
    EXPECT_GT(want.n(), 1500u);
    EXPECT_LE(want.n(), 3u * 3 * 48 * 5);
    qv1::Capability got;
    for (int i = 0; i < 100; ++i) {
      got = capability(quality);
      if (got.n() == want.n()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_EQ(got.SerializeAsString(), want.SerializeAsString()) << got.DebugString();
  }
  ExpectSame(expected, Dashboard(rollups));

  // Each process serves only its own service.
  auto wrong = rv1::RollupService::NewStub(
      grpc::CreateChannel(scheduling, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  rv1::QueryKpisRequest req;
  rv1::QueryKpisResponse resp;
  EXPECT_EQ(wrong->QueryKpis(&ctx, req, &resp).error_code(), grpc::StatusCode::UNIMPLEMENTED);

  // A second rollups process with an empty data directory rebuilds from the
  // log to the same answers (and, owning nothing, fences no writer: the
  // simulation can be resent through the scheduling process afterwards).
  const std::string rebuilt =
      Serve("rollups2", {"--kafka-brokers", bootstrap, "--services", "rollups"});
  ASSERT_FALSE(rebuilt.empty());
  Simulate("enterprise=" + enterprise + ",scheduling=" + scheduling + ",rollups=" + rebuilt);
  ExpectSame(expected, Dashboard(rebuilt));
}

TEST_F(MicroservicesTest, ServiceSubsetsNeedKafkaAndKnownNames) {
  ChildProcess embedded_subset({TAKT_BINARY, "serve", "--insecure", "--services", "rollups", "--data-dir",
                                dir_.path() + "/x", "--listen", "127.0.0.1:0"},
                               dir_.path() + "/subset.out");
  EXPECT_EQ(embedded_subset.Wait(seconds(30)), 2);
  EXPECT_NE(embedded_subset.Output().find("needs --kafka-brokers"), std::string::npos)
      << embedded_subset.Output();

  ChildProcess unknown({TAKT_BINARY, "serve", "--insecure", "--services", "billing", "--kafka-brokers",
                        "127.0.0.1:1", "--data-dir", dir_.path() + "/y"},
                       dir_.path() + "/unknown.out");
  EXPECT_EQ(unknown.Wait(seconds(30)), 2);
  EXPECT_NE(unknown.Output().find("unknown service 'billing'"), std::string::npos)
      << unknown.Output();

  ChildProcess no_address({TAKT_BINARY, "rollup", "--target", "enterprise=127.0.0.1:1", "--from",
                           kStart, "--to", kEnd},
                          dir_.path() + "/no_address.out");
  EXPECT_EQ(no_address.Wait(seconds(30)), 2);
  EXPECT_NE(no_address.Output().find("no address for the rollups service"), std::string::npos)
      << no_address.Output();
}

// The CLI as a person types it wrong (issue 12.5): usage errors exit 2 and
// name what was wrong; --version answers.
TEST_F(MicroservicesTest, CliUsageErrorsExitTwoAndNameTheWord) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    const char* says;
  };
  const std::vector<Case> cases = {
      {{"--version"}, 0, "takt 0."},
      {{"nosuch"}, 2, "unknown command 'nosuch'"},
      {{"audit", "nosuch"}, 2, "unknown command 'nosuch' of 'audit'"},
      {{"simulate", "--facilities", "0"}, 2, "--facilities: Value 0 not in range"},
      {{"simulate", "--days", "-1"}, 2, "--days: Value -1 not in range"},
      {{"serve", "--kafka-brokers", ""}, 2, "--kafka-brokers is empty"},
      // A module's own serve flags (scheduling's ingest horizon).
      // No transport security and no --insecure: refused, saying what to give.
      {{"serve", "--data-dir", dir_.path() + "/plain", "--listen", "127.0.0.1:0"}, 2, "no transport security"},
      {{"serve", "--insecure", "--tls-cert", "x.pem", "--data-dir", dir_.path() + "/both", "--listen",
        "127.0.0.1:0"},
       2,
       "--insecure takes no certificates"},
      {{"serve", "--tls-cert", dir_.path() + "/missing.pem", "--tls-key", dir_.path() + "/missing.key",
        "--data-dir", dir_.path() + "/tls", "--listen", "127.0.0.1:0"},
       2,
       "missing.pem: cannot be read"},
      {{"serve", "--insecure", "--data-dir", dir_.path() + "/bad-flag", "--listen", "127.0.0.1:0",
        "--earliest-observation", "2026-13-01"},
       2,
       "scheduling: --earliest-observation:"},
      {{"serve", "--insecure", "--data-dir", dir_.path() + "/bad-flag", "--listen", "127.0.0.1:0",
        "--max-lateness-days", "-1"},
       2,
       "--max-lateness-days is -1"},
      {{"rollup", "--scope", "enterprise"}, 2, "--from is required"},
      {{"rollup", "--target", "127.0.0.1:1", "--from", kStart, "--to", kEnd}, 2, "(UNAVAILABLE)"},
      {{"bench", "ingest", "--clients-process", "--tls"}, 2, "--clients-process runs without --tls"},
  };
  int i = 0;
  for (const Case& c : cases) {
    std::vector<std::string> argv = {TAKT_BINARY};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    ChildProcess p(argv, dir_.path() + "/cli" + std::to_string(i++) + ".out");
    EXPECT_EQ(p.Wait(seconds(30)), c.exit_code) << absl::StrJoin(c.args, " ");
    EXPECT_NE(p.Output().find(c.says), std::string::npos)
        << absl::StrJoin(c.args, " ") << ": " << p.Output();
  }
}

// `takt bench ingest --clients-process` (issue 19): the gateways run in a
// process of their own (this binary, `bench ingest-clients`), every
// observation is acknowledged, and both sides' CPU time is reported.
TEST_F(MicroservicesTest, BenchIngestRunsItsClientsInAProcessOfTheirOwn) {
  ChildProcess p({TAKT_BINARY, "bench", "ingest", "--clients-process", "--facilities", "2", "--days", "1", "--json"},
                 dir_.path() + "/bench.out");
  ASSERT_EQ(p.Wait(seconds(120)), 0) << p.Output();
  std::map<std::string, nlohmann::json> results;
  for (absl::string_view line : absl::StrSplit(p.Output(), '\n')) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("name")) results[j["name"].get<std::string>()] = j;
  }
  ASSERT_TRUE(results.count("ingest_durable_acks_clients_apart")) << p.Output();
  const int64_t observations = results["ingest_durable_acks_clients_apart"]["events"].get<int64_t>();
  EXPECT_GT(observations, 100);
  for (const char* name : {"ingest_server_cpu_clients_apart", "ingest_clients_cpu_clients_apart"}) {
    ASSERT_TRUE(results.count(name)) << name << ": " << p.Output();
    EXPECT_EQ(results[name]["events"].get<int64_t>(), observations) << name;
    EXPECT_GT(results[name]["seconds"].get<double>(), 0.0) << name << ": no CPU time measured";
  }
  EXPECT_TRUE(results.count("projection_rebuild")) << p.Output();
}

}  // namespace
}  // namespace takt
