#include "core/config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "testutil.h"

namespace mediadex {
namespace {

// A file of the test's own: ctest -j runs the tests of this file in parallel processes.
std::string WriteConfig(const std::string& text) {
  const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  auto path = std::filesystem::temp_directory_path() / ("mediadex_config_test." + test + ".conf");
  std::ofstream(path) << text;
  return path.string();
}

TEST(ConfigTest, DefaultsFollowTheOriginalApp) {
  Config c;
  EXPECT_EQ(*c.GetInt("concurrency"), 0);  // auto: the original app's 3 on the CPU (cli/common.h)
  EXPECT_EQ(*c.GetInt("batch_size"), 64);
  EXPECT_EQ(*c.GetBytes("max_memory"), 8ull << 30);
  EXPECT_DOUBLE_EQ(*c.GetDouble("min_score"), 0.2);
  EXPECT_DOUBLE_EQ(*c.GetDouble("iou"), 0.4);
  EXPECT_EQ(c.Entry("device").source, ConfigSource::kDefault);
}

TEST(ConfigTest, FlagsBeatEnvBeatFileBeatDefaults) {
  Config c;
  ASSERT_OK(c.LoadFile(WriteConfig("# comment\nbatch_size = 16\nconcurrency=5\ndevice = \"cpu\"\n")));
  ::setenv("MEDIADEX_CONCURRENCY", "7", 1);
  ::setenv("MEDIADEX_MAX_MEMORY", "2GiB", 1);
  c.LoadEnv();
  ::unsetenv("MEDIADEX_CONCURRENCY");
  ::unsetenv("MEDIADEX_MAX_MEMORY");
  ASSERT_OK(c.SetFlag("max_memory", "1GiB"));

  EXPECT_EQ(*c.GetInt("batch_size"), 16);
  EXPECT_EQ(c.Entry("batch_size").source, ConfigSource::kFile);
  EXPECT_NE(c.Entry("batch_size").origin.find(":2"), std::string::npos);  // file:line
  EXPECT_EQ(c.Get("device"), "cpu");
  EXPECT_EQ(*c.GetInt("concurrency"), 7);
  EXPECT_EQ(c.Entry("concurrency").origin, "MEDIADEX_CONCURRENCY");
  EXPECT_EQ(*c.GetBytes("max_memory"), 1ull << 30);
  EXPECT_EQ(c.Entry("max_memory").origin, "--max-memory");
}

TEST(ConfigTest, TheOriginalMetalSwitchIsHonoured) {
  ::setenv("TF_METAL_DEVICE", "1", 1);
  Config c;
  c.LoadEnv();
  ::unsetenv("TF_METAL_DEVICE");
  EXPECT_TRUE(*c.GetBool("metal_env"));
  EXPECT_EQ(c.Entry("metal_env").origin, "TF_METAL_DEVICE");
}

TEST(ConfigTest, BadInputNamesWhereItCameFrom) {
  Config c;
  Status unknown = c.LoadFile(WriteConfig("batch_size = 8\nbatchsize = 9\n"));
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find(":2"), std::string::npos) << unknown.message();
  EXPECT_NE(unknown.message().find("batchsize"), std::string::npos);
  EXPECT_EQ(c.LoadFile(WriteConfig("just words\n")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.LoadFile("/nonexistent/mediadex.conf").code(), StatusCode::kNotFound);
  ASSERT_OK(c.SetFlag("batch_size", "lots"));
  auto v = c.GetInt("batch_size");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("--batch-size"), std::string::npos) << v.status().message();
}

TEST(ConfigTest, ParsesSizes) {
  EXPECT_EQ(*ParseBytes("8GiB"), 8ull << 30);
  EXPECT_EQ(*ParseBytes("512 MiB"), 512ull << 20);
  EXPECT_EQ(*ParseBytes("1.5g"), 3ull << 29);
  EXPECT_EQ(*ParseBytes("100000"), 100000u);
  EXPECT_FALSE(ParseBytes("lots").ok());
  EXPECT_FALSE(ParseBytes("5 parsecs").ok());
  EXPECT_FALSE(ParseBytes("-1G").ok());
  EXPECT_EQ(FormatBytes(3ull << 29), "1.5 GiB");
}

}  // namespace
}  // namespace mediadex
