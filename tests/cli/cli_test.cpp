// Runs build/mediadex as a user would and checks what it prints and its exit code.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_util.h"
#include "testutil.h"
#include "core/files.h"

namespace mediadex {
namespace {
namespace fs = std::filesystem;

using testing::CommandRun;
using testing::JsonLines;

// Runs `mediadex ARGS` with optional environment assignments.
CommandRun Mediadex(const std::string& args, const std::string& env = "") {
  return testing::Shell(env + " " + testing::MediadexBinary() + " " + args, fs::temp_directory_path());
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(testing::CenternetModelPath()))
        << "the bundled model is missing: run scripts/fetch-model.sh";
    dir_ = fs::temp_directory_path() / ("mediadex_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { RemoveTree(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
    return (dir_ / name).string();
  }
  fs::path dir_;
};

TEST_F(CliTest, DetectJsonFindsPeopleInTheBundledSamples) {
  CommandRun run = Mediadex("detect --json --device cpu " + std::string(MEDIADEX_SAMPLES_DIR));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto lines = JsonLines(run.out);
  ASSERT_EQ(lines.size(), 6u) << "every photo in samples/, and not SOURCES.md";
  bool saw_person = false, saw_cup = false;
  for (const auto& j : lines) {
    ASSERT_TRUE(j.contains("file") && j.contains("width") && j.contains("height") && j.contains("detections")) << j;
    for (const auto& d : j["detections"]) {
      const auto& box = d["box"];
      ASSERT_EQ(box.size(), 4u);
      EXPECT_LE(box[0].get<double>(), box[2].get<double>());
      EXPECT_LE(box[2].get<double>(), j["width"].get<double>());
      EXPECT_LE(box[3].get<double>(), j["height"].get<double>());
      EXPECT_GE(d["score"].get<double>(), 0.2);
      const std::string file = j["file"];
      if (file.find("human-samples") != std::string::npos && d["label"] == "person") saw_person = true;
      if (file.find("coffee") != std::string::npos && d["label"] == "cup") saw_cup = true;
    }
    EXPECT_LE(j["detections"].size(), 10u);
  }
  EXPECT_TRUE(saw_person);
  EXPECT_TRUE(saw_cup);
}

TEST_F(CliTest, IndexOnTheCpuDecodesWithTheOriginalAppsConcurrencyByDefault) {
  const std::string catalog = (dir_ / "catalog.db").string();
  CommandRun run = Mediadex("index --device cpu --catalog " + catalog + " " + std::string(MEDIADEX_SAMPLES_DIR));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("analysed 6 files on cpu: 6 done, 0 failed"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("(all 3 CPU decode workers)"), std::string::npos) << run.out;
  run = Mediadex("index --device cpu --concurrency 2 --catalog " + (dir_ / "again.db").string() + " " +
                 std::string(MEDIADEX_SAMPLES_DIR));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("(all 2 CPU decode workers)"), std::string::npos) << run.out;
}

TEST_F(CliTest, ProfileOpsLogsWhereAForwardPassSpendsItsTime) {
  const std::string photo = std::string(MEDIADEX_SAMPLES_DIR) + "/skimage-astronaut.png";
  CommandRun run = Mediadex("-v detect --device cpu " + photo, "MEDIADEX_PROFILE_OPS=1");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // One line per forward pass (the load-time self-check and the photo), convolutions first.
  EXPECT_NE(run.err.find("ops of a batch of 1 took"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("_FusedConv2D x"), std::string::npos) << run.err;
  run = Mediadex("-v detect --device cpu " + photo);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.err.find("ops of a batch"), std::string::npos) << "profiling is off by default";
}

TEST_F(CliTest, BrokenFilesAreReportedOneLineEachAndTheRestStillRuns) {
  std::ifstream photo(std::string(MEDIADEX_SAMPLES_DIR) + "/human-samples.jpg", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(photo)), {});
  const auto empty = Write("empty.jpg", "");
  const auto text = Write("notes.jpg", "this is not a photo\n");
  const auto truncated = Write("truncated.jpg", bytes.substr(0, bytes.size() / 3));
  const auto good = Write("good.jpg", bytes);
  const auto missing = (dir_ / "missing.jpg").string();
  CommandRun run = Mediadex("detect --json --device cpu " + empty + " " + text + " " + truncated + " " +
                     good + " " + missing);
  EXPECT_EQ(run.exit_code, 1) << "partial failure must say so in the exit code";
  auto lines = JsonLines(run.out);
  ASSERT_EQ(lines.size(), 5u);
  for (int i : {0, 1, 2, 4}) {
    EXPECT_TRUE(lines[i].contains("error")) << lines[i];
    EXPECT_FALSE(lines[i]["error"].get<std::string>().empty());
  }
  EXPECT_FALSE(lines[3].contains("error"));
  EXPECT_FALSE(lines[3]["detections"].empty());
  // stderr: one line per failed file, naming it.
  for (const auto& path : {empty, text, truncated, missing}) {
    EXPECT_NE(run.err.find(path + ": "), std::string::npos) << run.err;
  }
}

TEST_F(CliTest, MaxDecodeSecondsFailsASlowFileWithTheReasonFromTheFlagAndTheEnvironment) {
  const std::string photo = std::string(MEDIADEX_SAMPLES_DIR) + "/skimage-chelsea.png";
  CommandRun run = Mediadex("detect --json --device cpu --max-decode-seconds 0.000000001 " + photo);
  EXPECT_EQ(run.exit_code, 1);
  auto lines = JsonLines(run.out);
  ASSERT_EQ(lines.size(), 1u) << run.out;
  EXPECT_EQ(lines[0]["error"], "decoding took over 1e-09 s (--max-decode-seconds)") << lines[0];
  run = Mediadex("detect --json --device cpu " + photo, "MEDIADEX_MAX_DECODE_SECONDS=0.000000001");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.out.find("--max-decode-seconds"), std::string::npos) << run.out;
  run = Mediadex("detect --json --device cpu --max-decode-seconds 0 " + photo);  // 0 = no limit
  EXPECT_EQ(run.exit_code, 0) << run.err;
}

TEST_F(CliTest, MissingModelIsAClearErrorNotACrash) {
  CommandRun run = Mediadex("detect --device cpu --model /nonexistent/model.json " +
                     std::string(MEDIADEX_SAMPLES_DIR) + "/skimage-chelsea.png");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("/nonexistent/model.json"), std::string::npos) << run.err;
}

TEST_F(CliTest, DoctorReportsTheDeviceItUsedAndTimesIt) {
  CommandRun run = Mediadex("doctor --device cpu");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_NE(run.out.find("device used      cpu"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("matmul 2048"), std::string::npos);
  EXPECT_NE(run.out.find("objects, first"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("result: OK"), std::string::npos);
}

TEST_F(CliTest, MetalSwitchOnAMachineWithoutMetalIsSaidAndFallsBack) {
  CommandRun run = Mediadex("doctor", "TF_METAL_DEVICE=1");
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  if (run.out.find("device used      mps") == std::string::npos) {
    EXPECT_NE(run.out.find("TF_METAL_DEVICE=1 but"), std::string::npos) << run.out;
  }
}

TEST_F(CliTest, AskingForAnAbsentDeviceFailsWithTheReason) {
  CommandRun run = Mediadex("detect --device cuda:7 " + std::string(MEDIADEX_SAMPLES_DIR) + "/skimage-chelsea.png");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("cuda:7"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace mediadex
