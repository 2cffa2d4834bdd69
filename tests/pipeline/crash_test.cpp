// The promises that need a real process: kill -9 at any moment loses at most the batches in
// flight (and never duplicates work), and --max-memory bounds peak RSS.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <thread>

#include "catalog/catalog.h"
#include "library.h"
#include "testutil.h"

namespace mediadex {
namespace {
namespace fs = std::filesystem;
using testing::TempLibrary;

struct Child {
  pid_t pid = -1;
};

// Starts `mediadex index` on the library with the given catalog and extra flags.
Child StartIndex(const TempLibrary& lib, const std::string& catalog, std::vector<std::string> extra) {
  std::vector<std::string> args = {std::string(MEDIADEX_BINARY_DIR) + "/mediadex", "index", "--quiet",
                                   "--device", "cpu", "--catalog", catalog};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(lib.photos().string());
  Child child;
  child.pid = fork();
  if (child.pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return child;
}

struct Finished {
  int exit_code = -1;
  bool killed = false;
  uint64_t peak_rss = 0;
};

Finished Wait(const Child& child) {
  int status = 0;
  struct rusage usage {};
  wait4(child.pid, &status, 0, &usage);
  Finished f;
  f.killed = WIFSIGNALED(status);
  f.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  f.peak_rss = static_cast<uint64_t>(usage.ru_maxrss) * 1024;
  return f;
}

// path -> its detections, sorted.
std::map<std::string, std::vector<std::string>> Detections(const std::string& catalog_path) {
  auto c = catalog::OpenCatalog(catalog_path);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  std::map<std::string, std::vector<std::string>> out;
  if (!c.ok()) return out;
  auto rows = (*c)->ExportAll(0);
  EXPECT_TRUE(rows.ok());
  for (const auto& row : *rows) {
    auto& v = out[row.path];
    for (const auto& d : row.detections) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "%s %.3f %.0f,%.0f,%.0f,%.0f", d.detection.label.c_str(), d.detection.score,
                    d.detection.box.x1, d.detection.box.y1, d.detection.box.x2, d.detection.box.y2);
      v.push_back(buf);
    }
    std::sort(v.begin(), v.end());
  }
  return out;
}

void BuildLibrary(TempLibrary& lib, int copies) {
  const std::vector<std::string> photos = {"skimage-chelsea.png", "skimage-coffee.png", "sklearn-china.jpg",
                                           "matplotlib-grace_hopper.jpg", "skimage-rocket.jpg",
                                           "human-samples.jpg"};
  for (int i = 0; i < copies; ++i) {
    for (const auto& p : photos) lib.AddPhoto(p, "set" + std::to_string(i) + "/" + p);
  }
  lib.AddBytes("broken/truncated.jpg", lib.ReadPhoto("human-samples.jpg").substr(0, 5000));
}

TEST(CrashTest, KillNineAtRandomMomentsThenResumeGivesTheUninterruptedResult) {
  TempLibrary lib("crash");
  BuildLibrary(lib, 8);  // 48 photos + 1 broken
  const std::string reference = lib.catalog("reference.db");
  Finished ref = Wait(StartIndex(lib, reference, {"--batch-size", "2"}));
  ASSERT_EQ(ref.exit_code, 1) << "one broken file: partial failure";
  const auto expected = Detections(reference);
  ASSERT_EQ(expected.size(), 48u) << "the export lists the photos with results";

  const std::string crashed = lib.catalog("crashed.db");
  std::mt19937 rng(12345);
  // Kill at random moments until a run gets to finish on its own: some runs during start-up
  // (model loading, scan), the others after a random number (1..6) of further files were
  // committed, watched through the catalog as `mediadex status` would (WAL readers don't block).
  std::uniform_int_distribution<int> startup_ms(20, 600), files_more(1, 6), coin(0, 3);
  auto done_so_far = [&]() -> int64_t {
    auto c = catalog::OpenCatalog(crashed);
    if (!c.ok()) return 0;
    auto s = (*c)->Summary(0);
    return s.ok() ? s->done + s->failed : 0;
  };
  int kills = 0;
  for (int attempt = 0; attempt < 40; ++attempt) {
    Child child = StartIndex(lib, crashed, {"--batch-size", "2"});
    if (coin(rng) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(startup_ms(rng)));
    } else {
      const int64_t target = done_so_far() + files_more(rng);
      while (done_so_far() < target && waitpid(child.pid, nullptr, WNOHANG) == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    kill(child.pid, SIGKILL);
    if (!Wait(child).killed) break;  // it had finished: nothing left to interrupt
    ++kills;
  }
  RecordProperty("kills", kills);
  EXPECT_GE(kills, 3) << "the runs must have been killed mid-way for this test to mean anything";
  Finished last = Wait(StartIndex(lib, crashed, {"--batch-size", "2"}));
  EXPECT_TRUE(last.exit_code == 0 || last.exit_code == 1) << last.exit_code;
  EXPECT_EQ(Detections(crashed), expected) << "every file done exactly once, same detections";

  auto c = catalog::OpenCatalog(crashed);
  ASSERT_TRUE(c.ok());
  auto summary = (*c)->Summary(0);
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->done, 48);
  EXPECT_EQ(summary->failed, 1);
  EXPECT_EQ(summary->pending, 0);
}

TEST(MemoryTest, PeakRssStaysUnderMaxMemoryWithLargeImages) {
  TempLibrary lib("memory");
  // Eight 6000x4000 JPEGs (72 MB each decoded), exact preprocessing: without back-pressure the
  // decoders alone would hold well over the limit.
  const std::string big = (lib.photos() / "big0.jpg").string();
  const std::string cmd = "convert '" + testing::Photo("plasma-Kite-2560x1600.jpg") +
                          "' -resize 6000x4000! -quality 85 '" + big + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "ImageMagick's convert is needed (scripts/setup.sh --tests)";
  for (int i = 1; i < 8; ++i) fs::copy_file(big, lib.photos() / ("big" + std::to_string(i) + ".jpg"));
  // Different bytes per copy are not needed: identity is by path.
  const uint64_t limit = 900ull << 20;
  Finished f = Wait(StartIndex(lib, lib.catalog(), {"--preprocess", "exact", "--max-memory", "900MiB",
                                                    "--batch-size", "8", "--concurrency", "4"}));
  ASSERT_EQ(f.exit_code, 0);
  EXPECT_LT(f.peak_rss, limit) << "peak RSS " << (f.peak_rss >> 20) << " MiB";
  EXPECT_EQ(Detections(lib.catalog()).size(), 8u);
}

}  // namespace
}  // namespace mediadex
