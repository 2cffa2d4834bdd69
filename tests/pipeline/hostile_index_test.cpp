// `mediadex index` over a folder of hostile files (tests/data/make_hostile.py, issue #21) and
// two real photos, as a user would run it: --max-memory is kept (peak RSS of the process),
// every file is recorded (done, or failed with a reason), nothing crashes or hangs.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "catalog/catalog.h"
#include "library.h"
#include "testutil.h"

namespace mediadex {
namespace {
namespace fs = std::filesystem;

struct Finished {
  bool hung = false;
  bool signalled = false;
  int exit_code = -1;
  uint64_t peak_rss = 0;
};

// Runs the command, killing it after `timeout`; the child's own peak RSS from wait4.
Finished RunWithTimeout(std::vector<std::string> args, std::chrono::seconds timeout) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  Finished f;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, WNOHANG, &usage) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      f.hung = true;
      kill(pid, SIGKILL);
      wait4(pid, &status, 0, &usage);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  f.signalled = WIFSIGNALED(status);
  f.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  f.peak_rss = static_cast<uint64_t>(usage.ru_maxrss) * 1024;
  return f;
}

TEST(HostileIndexTest, HostileFilesStayInsideMaxMemoryAndAreAllRecorded) {
  testing::TempLibrary lib("hostile_index");
  const std::string make = "python3 '" + testing::TestData("make_hostile.py") + "' '" + lib.photos().string() +
                           "' > /dev/null";
  ASSERT_EQ(std::system(make.c_str()), 0) << "tests/data/make_hostile.py failed (python3 needed)";
  std::set<std::string> hostile;
  for (const auto& entry : fs::directory_iterator(lib.photos())) hostile.insert(entry.path().string());
  ASSERT_GE(hostile.size(), 20u);
  lib.AddPhoto("sklearn-china.jpg", "good/china.jpg");
  lib.AddPhoto("skimage-chelsea.png", "good/chelsea.png");

  const uint64_t limit = 600ull << 20;
  const Finished f = RunWithTimeout({std::string(MEDIADEX_BINARY_DIR) + "/mediadex", "index", "--quiet", "--device",
                                     "cpu", "--max-memory", "600M", "--concurrency", "3", "--catalog", lib.catalog(),
                                     lib.photos().string()},
                                    std::chrono::seconds(300));
  ASSERT_FALSE(f.hung) << "mediadex index did not finish in 300 s";
  ASSERT_FALSE(f.signalled) << "mediadex index crashed";
  EXPECT_EQ(f.exit_code, 1) << "some files failed: a partial failure";
  EXPECT_LT(f.peak_rss, limit) << "peak RSS " << (f.peak_rss >> 20) << " MiB over --max-memory 600M";

  auto catalog = catalog::OpenCatalog(lib.catalog());
  ASSERT_TRUE(catalog.ok()) << catalog.status().ToString();
  auto summary = (*catalog)->Summary(0);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->total, static_cast<int64_t>(hostile.size() + 2));
  EXPECT_EQ(summary->pending, 0) << "every file recorded";
  EXPECT_EQ(summary->done + summary->failed, summary->total);
  auto errors = (*catalog)->Errors(0, 1000);
  ASSERT_TRUE(errors.ok()) << errors.status().ToString();
  std::set<std::string> failed;
  for (const auto& e : *errors) {
    EXPECT_FALSE(e.error.empty()) << e.path << " failed without a reason";
    EXPECT_EQ(e.error.find('\n'), std::string::npos) << e.path << ": " << e.error;
    failed.insert(e.path);
  }
  EXPECT_EQ(static_cast<int64_t>(failed.size()), summary->failed);
  // The real photos are done; the hostile files that carry a valid image (libraries skip the
  // lying parts) may be done too; every other one failed.
  for (const char* good : {"good/china.jpg", "good/chelsea.png", "png_many_text.png", "tiff_huge_strip_bytes.tif",
                           "jpeg_lying_exif.jpg"}) {
    EXPECT_EQ(failed.count((lib.photos() / good).string()), 0u) << good;
  }
  EXPECT_EQ(summary->failed, static_cast<int64_t>(hostile.size()) - 3);
}

}  // namespace
}  // namespace mediadex
