#include "libs/common/log.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace takt::log {
namespace {

TEST(LogTest, JsonLinesAreEscapedObjects) {
  ASSERT_TRUE(SetFormat("json").ok());
  ::testing::internal::CaptureStderr();
  Warn("a \"quoted\" line\nwith a newline");
  const std::string line = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(SetFormat("text").ok());
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per message";
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warning");
  EXPECT_EQ(j["msg"], "a \"quoted\" line\nwith a newline");
  EXPECT_TRUE(j.contains("time"));
}

TEST(LogTest, TextLinesNameLevelAndProgram) {
  ::testing::internal::CaptureStderr();
  Info("started");
  const std::string line = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(line.find(" info takt: started"), std::string::npos) << line;
}

TEST(LogTest, UnknownFormatIsRefused) {
  absl::Status s = SetFormat("xml");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("xml"), std::string::npos);
}

}  // namespace
}  // namespace takt::log
