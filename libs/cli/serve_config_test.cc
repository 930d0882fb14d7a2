#include "libs/cli/serve_config.h"

#include "gtest/gtest.h"

namespace takt::cli {
namespace {

const FlagSet kFlags = {{"data-dir", "listen", "insecure", "jwt-public-key", "kafka-property", "config"},
                        {"jwt-public-key", "kafka-property"},
                        {"insecure"}};

TEST(ServeConfigTest, KafkaPropertiesComeFromFlagsAndAFileAndTheFlagWins) {
  const std::string file =
      "# SASL for the production cluster\n"
      "security.protocol = SASL_SSL\n"
      "\n"
      "! a Java-style comment\n"
      "sasl.password=s3cr=t\n";
  auto props = KafkaProperties({"security.protocol=SSL", "linger.ms=5"}, file, "kafka.properties");
  ASSERT_TRUE(props.ok()) << props.status();
  EXPECT_EQ(*props, (std::map<std::string, std::string>{{"security.protocol", "SSL"},
                                                        {"sasl.password", "s3cr=t"},
                                                        {"linger.ms", "5"}}));
  auto bad_line = KafkaProperties({}, "a=1\njust-a-word\n", "kafka.properties");
  EXPECT_EQ(bad_line.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_line.status().message().find("kafka.properties:2"), absl::string_view::npos);
  EXPECT_FALSE(KafkaProperties({"=x"}, "", "f").ok());
  EXPECT_FALSE(KafkaProperties({"novalue"}, "", "f").ok());
}

TEST(ServeConfigTest, EnvironmentNames) {
  EXPECT_EQ(EnvNameOf("data-dir"), "TAKT_DATA_DIR");
  EXPECT_EQ(EnvNameOf("tls-cert"), "TAKT_TLS_CERT");
}

TEST(ServeConfigTest, AFlagBeatsTheEnvironmentWhichBeatsTheFile) {
  const std::string yaml =
      "data-dir: /var/lib/takt\n"
      "listen: 0.0.0.0:7470\n"
      "insecure: true\n"
      "kafka-property: [security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512]\n";
  auto args = ConfigFileArgs(yaml, "takt.yaml", kFlags, {"serve", "--listen", "127.0.0.1:9"},
                             [](const std::string& env) { return env == "TAKT_DATA_DIR"; });
  ASSERT_TRUE(args.ok()) << args.status();
  EXPECT_EQ(*args, (std::vector<std::string>{"--insecure", "--kafka-property=security.protocol=SASL_SSL",
                                             "--kafka-property=sasl.mechanism=SCRAM-SHA-512"}));
  // --flag=value counts as given too; false switches add nothing.
  args = ConfigFileArgs("listen: a:1\ninsecure: false\n", "takt.yaml", kFlags, {"--listen=b:2"},
                        [](const std::string&) { return false; });
  ASSERT_TRUE(args.ok());
  EXPECT_TRUE(args->empty());
  EXPECT_TRUE(ConfigFileArgs("", "takt.yaml", kFlags, {}, [](const std::string&) { return false; })->empty());
}

TEST(ServeConfigTest, MistakesAreNamedWithFileLineAndColumn) {
  struct Bad {
    std::string yaml, says;
  };
  for (const Bad& b : std::vector<Bad>{
           {"data-dir: /x\ndatadir: /y\n", "takt.yaml:2:1: 'datadir' is not a takt serve flag"},
           {"listen: [a:1, b:2]\n", "takt.yaml:1:1: 'listen' takes one value, not a list"},
           {"insecure: maybe\n", "'insecure' is true or false"},
           {"data-dir: {a: b}\n", "takes a value, not a map"},
           {"- data-dir\n", "expected a map of flag names"},
           {"config: other.yaml\n", "cannot name another"},
           {"data-dir: [unclosed\n", "not YAML"},
       }) {
    auto args = ConfigFileArgs(b.yaml, "takt.yaml", kFlags, {}, [](const std::string&) { return false; });
    ASSERT_FALSE(args.ok()) << b.yaml;
    EXPECT_EQ(args.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(args.status().message().find(b.says), std::string_view::npos) << args.status();
  }
}

}  // namespace
}  // namespace takt::cli
