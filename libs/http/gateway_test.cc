#include "libs/http/gateway.h"

#include <regex>

#include "gtest/gtest.h"
#include "takt/quality/v1/quality_service.pb.h"
#include "takt/rollups/v1/rollups.pb.h"

namespace takt::http {
namespace {

bool Matches(const CompiledPath& p, const std::string& path, std::vector<std::string>* values = nullptr) {
  std::smatch m;
  if (!std::regex_match(path, m, std::regex(p.regex))) return false;
  if (values != nullptr) {
    values->clear();
    for (size_t i = 1; i < m.size(); ++i) values->push_back(m[i].str());
  }
  return true;
}

TEST(GatewayTest, PathTemplatesMatchTheirResourcesAndNothingElse) {
  auto region = CompilePath("/v1/{scope=regions/*}:queryKpis");
  ASSERT_TRUE(region.ok()) << region.status();
  EXPECT_EQ(region->fields, std::vector<std::string>{"scope"});
  std::vector<std::string> values;
  ASSERT_TRUE(Matches(*region, "/v1/regions/emea:queryKpis", &values));
  EXPECT_EQ(values, std::vector<std::string>{"regions/emea"});
  EXPECT_FALSE(Matches(*region, "/v1/regions/emea/x:queryKpis"));
  EXPECT_FALSE(Matches(*region, "/v1/regions/:queryKpis"));
  EXPECT_FALSE(Matches(*region, "/v1/facilities/f1:queryKpis"));
  EXPECT_FALSE(Matches(*region, "/v1/regions/emea:queryKpisX"));
  // "**" takes several segments; "." in a literal is not a wildcard.
  auto below = CompilePath("/v1/{scope=facilities/**}:queryKpis");
  ASSERT_TRUE(below.ok());
  ASSERT_TRUE(Matches(*below, "/v1/facilities/f1/workUnits/u1:queryKpis", &values));
  EXPECT_EQ(values, std::vector<std::string>{"facilities/f1/workUnits/u1"});
  auto dotted = CompilePath("/v1/a.b/{id}");
  ASSERT_TRUE(dotted.ok());
  EXPECT_TRUE(Matches(*dotted, "/v1/a.b/x"));
  EXPECT_FALSE(Matches(*dotted, "/v1/aXb/x"));
  for (const char* bad : {"/v1/{scope", "/v1/}", "/v1/{=x}", "/v1/{scope=regions//*}"}) {
    EXPECT_EQ(CompilePath(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(GatewayTest, GrpcCodesMapToTheirHttpStatus) {
  EXPECT_EQ(HttpStatusOf(0), 200);
  EXPECT_EQ(HttpStatusOf(3), 400);   // INVALID_ARGUMENT
  EXPECT_EQ(HttpStatusOf(5), 404);   // NOT_FOUND
  EXPECT_EQ(HttpStatusOf(7), 403);   // PERMISSION_DENIED
  EXPECT_EQ(HttpStatusOf(16), 401);  // UNAUTHENTICATED
  EXPECT_EQ(HttpStatusOf(8), 429);   // RESOURCE_EXHAUSTED
  EXPECT_EQ(HttpStatusOf(14), 503);  // UNAVAILABLE
  EXPECT_EQ(HttpStatusOf(13), 500);  // INTERNAL
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(GatewayTest, PathQueryAndBodyMakeTheRequestAndBadParametersAreNamed) {
  const auto& d = *rollups::v1::QueryKpisRequest::descriptor();
  auto r = RequestOf(d, {{"scope", "regions/emea"}},
                     {{"kpis", "oee,availability"}, {"kpis", "quality"}, {"from", "2026-01-05"}, {"to", "2026-01-11"},
                      {"downtimePareto", "true"}},
                     "");
  ASSERT_TRUE(r.ok()) << r.status();
  rollups::v1::QueryKpisRequest q;
  q.CopyFrom(**r);
  EXPECT_EQ(q.scope(), "regions/emea");
  EXPECT_EQ(q.kpis_size(), 3);
  EXPECT_EQ(q.kpis(2), "quality");
  EXPECT_EQ(q.from(), "2026-01-05");
  EXPECT_TRUE(q.downtime_pareto());
  // A JSON body works too; the path wins no argument with it.
  r = RequestOf(d, {}, {}, R"({"scope": "enterprise", "kpis": ["oee"]})");
  ASSERT_TRUE(r.ok()) << r.status();
  struct Bad {
    Pairs path, params;
    std::string body, says;
  };
  for (const Bad& b : std::vector<Bad>{
           {{}, {{"colour", "red"}}, "", "colour"},
           {{{"scope", "regions/emea"}}, {{"scope", "enterprise"}}, "", "already in the path"},
           {{}, {{"from", "2026-01-01"}, {"from", "2026-01-02"}}, "", "twice"},
           {{}, {{"downtime_pareto", "yes"}}, "", "true or false"},
           {{}, {}, "[1, 2]", "not a JSON object"},
           {{}, {}, "{\"scope\": ", "not a JSON object"},
           {{}, {}, R"({"nosuch": 1})", "nosuch"},
       }) {
    auto bad = RequestOf(d, b.path, b.params, b.body);
    ASSERT_FALSE(bad.ok()) << b.says;
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(bad.status().message().find(b.says), std::string_view::npos) << bad.status();
  }
}

TEST(GatewayTest, TimesAreQueryParametersOtherMessagesAreNot) {
  const auto& d = *quality::v1::ChartRequest::descriptor();
  auto r = RequestOf(d, {{"facility", "detroit-1"}, {"characteristic", "bore"}},
                     {{"from", "2026-12-01T06:00:00Z"}, {"to", "2026-12-01T14:00:00Z"}}, "");
  ASSERT_TRUE(r.ok()) << r.status();
  quality::v1::ChartRequest q;
  q.CopyFrom(**r);
  EXPECT_EQ(q.from().seconds(), 1796104800);
  EXPECT_EQ(q.to().seconds() - q.from().seconds(), 8 * 3600);
  auto bad = RequestOf(d, {}, {{"from", "yesterday"}}, "");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  // A message that is not a well-known string type goes in a body.
  bad = RequestOf(*quality::v1::NcrRequest::descriptor(), {}, {{"command", "x"}}, "");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("command"), std::string_view::npos) << bad.status();
}

}  // namespace
}  // namespace takt::http
