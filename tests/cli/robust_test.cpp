// The CLI against what a hostile or unlucky user gives it (issue 22): file names that are not
// UTF-8 through every command that prints JSON or CSV, FIFOs, devices and huge sparse files
// named like photos, two index runs on one catalog, a damaged catalog. Runs the real binary.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli_util.h"
#include "core/files.h"
#include "core/text.h"
#include "testutil.h"

namespace mediadex {
namespace {
namespace fs = std::filesystem;

using testing::CommandRun;
using testing::ReadFile;
using testing::ShellQuote;

constexpr const char* kTimeout = "timeout 300 ";  // a hang fails the test (exit 124), never blocks CI

class RobustCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(testing::CenternetModelPath()))
        << "the bundled model is missing: run scripts/fetch-model.sh";
    dir_ = fs::temp_directory_path() / ("mediadex_robust_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    catalog_ = (dir_ / "catalog.db").string();
  }
  void TearDown() override { RemoveTree(dir_); }

  CommandRun Mediadex(const std::string& args) {
    return testing::Shell(kTimeout + testing::MediadexBinary() + " " + args, dir_);
  }
  // A copy of a bundled photo at `name` (any bytes) in the test folder.
  std::string Photo(const std::string& name, const std::string& sample = "human-samples.jpg") {
    const std::string path = (dir_ / name).string();
    fs::copy_file(std::string(MEDIADEX_SAMPLES_DIR) + "/" + sample, path);
    return path;
  }
  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  fs::path dir_;
  std::string catalog_;
};

// Parses one JSON document; nlohmann's parser rejects invalid UTF-8, so this also checks that.
nlohmann::json Parse(const std::string& text) {
  try {
    return nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not valid JSON: " << e.what() << "\n" << BytesToUtf8(text);
    return nullptr;
  }
}

std::vector<nlohmann::json> ParseLines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(Parse(line));
  }
  return lines;
}

// The exact bytes behind a "file" field.
std::string FileBytes(const nlohmann::json& j, const char* key = "file") {
  return j.contains(key) && j[key].is_string() ? Utf8ToBytes(j[key].get<std::string>()) : std::string("<none>");
}

// --- file names that are not UTF-8 ---------------------------------------------------------

TEST_F(RobustCliTest, NamesThatAreNotUtf8SurviveEveryJsonAndCsvOutputByteForByte) {
  // Latin-1 "é", a backslash next to an escape look-alike, a cut UTF-8 sequence; and a broken
  // file whose name has a lone 0xFF.
  const std::string good = Photo("caf\xE9 \\xe9.jpg");
  const std::string other = Photo("\xE6\x97 cat.png", "skimage-chelsea.png");  // found as "dog"
  const std::string broken = Write("broken\xFF.jpg", "\xFF\xD8\xFF not really a JPEG");
  const std::string catalog = "--catalog " + ShellQuote(catalog_);

  // detect --json: one line per file, the failed one with its error.
  CommandRun run =
      Mediadex("detect --json --device cpu " + ShellQuote(good) + " " + ShellQuote(other) + " " + ShellQuote(broken));
  ASSERT_EQ(run.exit_code, 1) << run.err;
  auto lines = ParseLines(run.out);
  ASSERT_EQ(lines.size(), 3u) << run.out;
  EXPECT_EQ(FileBytes(lines[0]), good);
  EXPECT_EQ(FileBytes(lines[1]), other);
  EXPECT_EQ(FileBytes(lines[2]), broken);
  EXPECT_FALSE(lines[0]["detections"].empty());
  EXPECT_TRUE(lines[2].contains("error")) << lines[2];
  EXPECT_EQ(lines[0]["file"].get<std::string>(), BytesToUtf8(good)) << "the documented escapes: \\xHH and \\\\";
  EXPECT_NE(lines[0]["file"].get<std::string>().find("caf\\xe9 \\\\xe9.jpg"), std::string::npos);

  // index, then every catalog command that prints JSON or CSV.
  run = Mediadex("index --device cpu " + catalog + " " + ShellQuote(dir_.string()));
  ASSERT_EQ(run.exit_code, 1) << run.out << run.err;  // the broken file failed
  EXPECT_NE(run.out.find("2 done, 1 failed"), std::string::npos) << run.out;

  run = Mediadex("search person dog --json " + catalog);  // CenterNet calls skimage's cat a dog
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::set<std::string> found;
  for (const auto& j : ParseLines(run.out)) found.insert(FileBytes(j));
  EXPECT_EQ(found, (std::set<std::string>{good, other})) << run.out;

  run = Mediadex("errors --json " + catalog);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  lines = ParseLines(run.out);
  ASSERT_EQ(lines.size(), 1u) << run.out;
  EXPECT_EQ(FileBytes(lines[0]), broken);

  run = Mediadex("status --json " + catalog);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json status = Parse(run.out);
  ASSERT_TRUE(status.is_object());
  ASSERT_EQ(status["recent_errors"].size(), 1u) << status;
  EXPECT_EQ(FileBytes(status["recent_errors"][0]), broken);
  EXPECT_EQ(Utf8ToBytes(status["catalog"].get<std::string>()), catalog_);

  run = Mediadex("export --format json " + catalog);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  found.clear();
  for (const auto& j : Parse(run.out)) found.insert(FileBytes(j));
  EXPECT_EQ(found, (std::set<std::string>{good, other}));

  run = Mediadex("export --format coco " + catalog);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  found.clear();
  const nlohmann::json coco = Parse(run.out);
  ASSERT_TRUE(coco.is_object());
  for (const auto& image : coco["images"]) found.insert(FileBytes(image, "file_name"));
  EXPECT_EQ(found, (std::set<std::string>{good, other}));

  run = Mediadex("export --format csv " + catalog);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_TRUE(IsValidUtf8(run.out));
  found.clear();
  std::istringstream csv(run.out);
  std::string line;
  std::getline(csv, line);  // header
  while (std::getline(csv, line)) {
    // No name here holds a comma or a quote, so the file is the text before the first comma.
    found.insert(Utf8ToBytes(line.substr(0, line.find(','))));
  }
  EXPECT_EQ(found, (std::set<std::string>{good, other})) << run.out;
}

// --- files that are not photos, named like photos ------------------------------------------

TEST_F(RobustCliTest, DetectRefusesFifosDevicesAndHugeFilesOneLineEachAndStillDetectsThePhoto) {
  const std::string fifo = (dir_ / "fifo.jpg").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const std::string zero = (dir_ / "zero.jpg").string();
  fs::create_symlink("/dev/zero", zero);
  // 2 GiB without costing disk: sparse files (ftruncate). One is zeros (no format: refused from
  // its first bytes), one starts like a JPEG (refused by --max-memory before it is read).
  const std::string sparse = Write("sparse.jpg", "");
  const std::string big = Write("big.jpg", "\xFF\xD8\xFF\xE0");
  for (const auto& p : {sparse, big}) ASSERT_EQ(::truncate(p.c_str(), 2ll << 30), 0) << p;
  const std::string good = Photo("good.jpg");

  const auto start = std::chrono::steady_clock::now();
  CommandRun run = Mediadex("detect --json --device cpu --max-memory 1GiB " + fifo + " " + zero + " " + sparse + " " +
                            big + " " + good);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_NE(run.exit_code, 124) << "detect hung (killed after 300 s)";
  EXPECT_EQ(run.exit_code, 1) << run.err;
  auto lines = ParseLines(run.out);
  ASSERT_EQ(lines.size(), 5u) << run.out;
  const std::vector<std::pair<std::string, std::string>> refused = {{fifo, "not a regular file (a FIFO)"},
                                                                    {zero, "not a regular file (a character device)"},
                                                                    {sparse, "not a supported image"},
                                                                    {big, "reading the file needs 2.0 GiB"}};
  for (size_t i = 0; i < refused.size(); ++i) {
    const auto& [path, reason] = refused[i];
    EXPECT_EQ(FileBytes(lines[i]), path);
    EXPECT_NE(lines[i].value("error", "").find(reason), std::string::npos) << lines[i];
    EXPECT_NE(run.err.find(path + ": " + reason), std::string::npos) << run.err;  // one line on stderr
  }
  EXPECT_FALSE(lines[4].contains("error")) << lines[4];
  EXPECT_FALSE(lines[4]["detections"].empty());
  EXPECT_LT(seconds, 120) << "nothing was read that should not have been";
}

TEST_F(RobustCliTest, IndexSaysWhyItSkipsAFifoOrADeviceNamedLikeAPhoto) {
  const std::string fifo = (dir_ / "fifo.jpg").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  fs::create_directories(dir_ / "lib");
  const std::string zero = (dir_ / "lib" / "zero.jpg").string();
  fs::create_symlink("/dev/zero", zero);
  const std::string good = Photo("lib/good.jpg");
  CommandRun run = Mediadex("index --device cpu --catalog " + catalog_ + " " + fifo + " " + (dir_ / "lib").string());
  ASSERT_NE(run.exit_code, 124) << "index hung on a FIFO";
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find(fifo + ": not a regular file (a FIFO) (skipped)"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(zero + ": not a regular file (a character device) (skipped)"), std::string::npos) << run.err;
  EXPECT_NE(run.out.find("1 done, 0 failed"), std::string::npos) << run.out;
}

// --- the catalog ----------------------------------------------------------------------------

// Starts `mediadex ARGS` as a child process (its own pid, for waitpid and kill).
pid_t Start(const std::string& args, const fs::path& out, const fs::path& err) {
  const std::string command = "exec " + testing::MediadexBinary() + " " + args + " >" + ShellQuote(out.string()) +
                              " 2>" + ShellQuote(err.string());
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Waits until `lock` names `pid` (the run took the catalog) or the process ended.
bool WaitForLockHolder(const std::string& lock, pid_t pid) {
  for (int i = 0; i < 600; ++i) {
    if (ReadFile(lock) == std::to_string(pid) + "\n") return true;
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

int ExitCode(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST_F(RobustCliTest, ASecondIndexRunOnTheSameCatalogIsRefusedNamingTheFirst) {
  const std::string args = "index --device cpu --catalog " + catalog_ + " " + std::string(MEDIADEX_SAMPLES_DIR);
  const pid_t first = Start(args, dir_ / "first.out", dir_ / "first.err");
  ASSERT_GT(first, 0);
  ASSERT_TRUE(WaitForLockHolder(catalog_ + ".lock", first)) << ReadFile(dir_ / "first.err");
  CommandRun second = Mediadex(args);
  EXPECT_EQ(second.exit_code, 2) << second.out << second.err;
  EXPECT_NE(second.err.find(catalog_ + ": another `mediadex index` run (pid " + std::to_string(first) + ")"),
            std::string::npos)
      << second.err;
  EXPECT_EQ(second.out.find("analysed"), std::string::npos) << "the second run analysed nothing";
  ASSERT_EQ(ExitCode(first), 0) << ReadFile(dir_ / "first.err");
  EXPECT_NE(ReadFile(dir_ / "first.out").find("analysed 6 files on cpu: 6 done"), std::string::npos);

  // The first run is over: the catalog is free, and nothing is left to analyse.
  CommandRun third = Mediadex(args);
  EXPECT_EQ(third.exit_code, 0) << third.err;
  EXPECT_NE(third.out.find("analysed 0 files"), std::string::npos) << third.out;
}

TEST_F(RobustCliTest, ARunKilledWithSigkillLeavesTheCatalogFreeForTheNext) {
  const std::string args = "index --device cpu --catalog " + catalog_ + " " + std::string(MEDIADEX_SAMPLES_DIR);
  const pid_t first = Start(args, dir_ / "first.out", dir_ / "first.err");
  ASSERT_GT(first, 0);
  ASSERT_TRUE(WaitForLockHolder(catalog_ + ".lock", first)) << ReadFile(dir_ / "first.err");
  ::kill(first, SIGKILL);
  EXPECT_EQ(ExitCode(first), 128 + SIGKILL);
  CommandRun next = Mediadex(args);
  EXPECT_EQ(next.exit_code, 0) << next.err;
  EXPECT_NE(next.out.find("done, 0 failed"), std::string::npos) << next.out;
}

TEST_F(RobustCliTest, ADamagedCatalogIsRefusedOnOpenWithExit2NamingTheFile) {
  CommandRun run = Mediadex("index --device cpu --catalog " + catalog_ + " " + Photo("good.jpg"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // The last connection's close checkpointed the WAL into the file and removed it.
  ASSERT_FALSE(fs::exists(catalog_ + "-wal"));
  // Damage the detections' label index (its root page, past the page header): the file header
  // and the schema stay readable, so only a check of the pages themselves can see it.
  int page = 0, page_size = 0;
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open_v2(catalog_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    const char* sql =
        "SELECT rootpage, (SELECT page_size FROM pragma_page_size) FROM sqlite_schema WHERE name = "
        "'detections_label_score'";
    ASSERT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    page = sqlite3_column_int(stmt, 0);
    page_size = sqlite3_column_int(stmt, 1);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
  std::string bytes = ReadFile(catalog_);
  ASSERT_GT(page, 1);
  ASSERT_GE(bytes.size(), static_cast<size_t>(page) * page_size);
  for (size_t i = static_cast<size_t>(page - 1) * page_size + 12; i < static_cast<size_t>(page) * page_size; ++i) {
    bytes[i] = static_cast<char>(i * 131 + 7);
  }
  std::ofstream(catalog_, std::ios::binary | std::ios::trunc) << bytes;

  for (const std::string command : {"index --device cpu", "status", "search person"}) {
    run = Mediadex(command + " --catalog " + catalog_ + (command[0] == 'i' ? " " + dir_.string() : ""));
    EXPECT_EQ(run.exit_code, 2) << command << ": " << run.out << run.err;
    EXPECT_NE(run.err.find(catalog_ + ": "), std::string::npos) << command << ": " << run.err;
    EXPECT_NE(run.err.find("damaged"), std::string::npos) << command << ": " << run.err;
  }
  EXPECT_EQ(ReadFile(catalog_), bytes) << "a damaged catalog is not written to";
}

}  // namespace
}  // namespace mediadex
