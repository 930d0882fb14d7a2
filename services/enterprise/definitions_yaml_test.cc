// The enterprise file, read strictly (issue 12.1): each mistake a person
// makes in it is refused naming file:line:column, the path and the value,
// before anything reaches the server.
#include "services/enterprise/definitions_yaml.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace takt::enterprise {
namespace {

using ::testing::HasSubstr;

constexpr char kGood[] = R"(regions:
  - {id: americas, name: Americas}
products:
  - {id: door-l, planned_run_time_per_item: 1m30s}
facilities:
  - id: detroit-1
    region: americas
    commissioned_on: "2020-01-06"
    calendar:
      time_zone: America/Detroit
      day_start: "06:00"
      shifts:
        - {name: A, start: "06:00", end: "14:00"}
    areas:
      - id: body
        work_centers:
          - {id: press-line, work_units: [press-1, {id: press-2, name: Press 2}]}
)";

std::string Error(const std::string& text) {
  auto r = ParseDefinitionsYaml(text, "e.yaml");
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : std::string(r.status().message());
}

TEST(DefinitionsYamlTest, AGoodFileGivesDefinitionsInDependencyOrder) {
  auto r = ParseDefinitionsYaml(kGood, "e.yaml");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->definitions_size(), 8);
  EXPECT_TRUE(r->definitions(0).has_region());
  EXPECT_EQ(r->definitions(1).product().planned_run_time_per_item_us(), 90'000'000);  // 1m30s
  EXPECT_EQ(r->definitions(2).facility().commissioned_on(), "2020-01-06");
  EXPECT_EQ(r->definitions(3).move().region(), "americas");
  EXPECT_EQ(r->definitions(7).work_unit().display_name(), "Press 2");
  // A byte order mark is not content.
  EXPECT_TRUE(ParseDefinitionsYaml(std::string("\xEF\xBB\xBF") + kGood, "e.yaml").ok());
}

TEST(DefinitionsYamlTest, UnknownKeysAreRefusedWithTheirPlace) {
  EXPECT_THAT(Error("facilites:\n  - {id: a}\n"),
              HasSubstr("e.yaml:1:1: (top): unknown key 'facilites' (expected regions, products, "
                        "facilities, moves)"));
  std::string text = kGood;
  text.replace(text.find("shifts:"), 7, "shfts:");
  EXPECT_THAT(Error(text), HasSubstr("e.yaml:12:7: facilities[0].calendar: unknown key 'shfts'"));
}

TEST(DefinitionsYamlTest, DuplicatesAndSecondParentsAreRefused) {
  EXPECT_THAT(Error("regions:\n  - {id: emea}\n  - {id: emea}\n"),
              HasSubstr("e.yaml:3:5: regions[1]: region 'emea' is already defined at regions[0]"));
  std::string twice = std::string(kGood) +
                      "  - id: detroit-1\n    calendar: {time_zone: Asia/Tokyo}\n";
  EXPECT_THAT(Error(twice), HasSubstr("facility 'detroit-1' is already defined at facilities[0]"));
  std::string unit_twice = kGood;
  unit_twice.replace(unit_twice.find("work_units: [press-1,"), 21,
                     "work_units: [press-1]}\n          - {id: weld-line, work_units: [press-1,");
  EXPECT_THAT(Error(unit_twice),
              HasSubstr("work unit 'press-1' is already under work center 'press-line'"));
}

TEST(DefinitionsYamlTest, ValuesAreCheckedWithTheirPath) {
  std::string run_time = kGood;
  run_time.replace(run_time.find("1m30s"), 5, "stod");
  EXPECT_THAT(Error(run_time),
              HasSubstr("e.yaml:4:45: products[0].planned_run_time_per_item: 'stod' is not a duration"));
  EXPECT_THAT(Error("regions:\n  - {id: \"\", name: Nowhere}\n"),
              HasSubstr("e.yaml:2:10: regions[0]: id: must not be empty"));
  EXPECT_THAT(Error("facilities:\n  - {id: tokyo-1}\n"),
              HasSubstr("e.yaml:2:5: facilities[0]: 'calendar' is required"));
  EXPECT_THAT(Error("regions: {id: emea}\n"), HasSubstr("regions: expected a list"));
  EXPECT_THAT(Error("regions:\n  - {id: ../up}\n"), HasSubstr("must not start with '.' or '-'"));
  EXPECT_THAT(Error("regions: [\n"), HasSubstr("e.yaml:"));  // syntax, with its place
}

}  // namespace
}  // namespace takt::enterprise
