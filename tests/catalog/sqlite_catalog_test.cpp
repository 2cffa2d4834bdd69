// SQLite-only behaviour: what the file looks like, refusing foreign or newer files without
// touching them, WAL readers beside a writer, and committed batches surviving kill -9.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fcntl.h>
#include <random>
#include <set>
#include <thread>

#include "catalog/catalog.h"
#include "catalog/run_lock.h"
#include "catalog/sqlite/statement.h"
#include "catalog_test_util.h"
#include "testutil.h"

namespace mediadex::catalog {
namespace {

using testing::Det;
using testing::Get;
using testing::Ok;
using testing::ReadBytes;
using testing::Stat;
using testing::TempDir;
using testing::WriteBytes;

// A raw connection for poking at the file the way another program would.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK) << path;
    sqlite3_busy_timeout(db_, 5000);
  }
  ~RawDb() { sqlite3_close(db_); }
  void Exec(const std::string& sql) {
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << sql << ": " << (err ? err : "");
    sqlite3_free(err);
  }
  std::string Text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    std::string out;
    EXPECT_EQ(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    if (stmt && sqlite3_step(stmt) == SQLITE_ROW) {
      const unsigned char* p = sqlite3_column_text(stmt, 0);
      out = p ? reinterpret_cast<const char*>(p) : "";
    }
    sqlite3_finalize(stmt);
    return out;
  }

 private:
  sqlite3* db_ = nullptr;
};

std::string RandomBytes(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// Opening `path` must fail with `code`, mention the path, and leave the file byte-identical.
void ExpectRefusedUntouched(const std::string& path, StatusCode code, const std::string& reason) {
  const std::string before = ReadBytes(path);
  auto opened = OpenCatalog(path);
  ASSERT_FALSE(opened.ok()) << path << " was accepted";
  EXPECT_EQ(opened.status().code(), code) << opened.status().ToString();
  EXPECT_EQ(opened.status().message().rfind(path + ": ", 0), 0u) << opened.status().ToString();
  EXPECT_NE(opened.status().message().find(reason), std::string::npos) << opened.status().ToString();
  EXPECT_EQ(ReadBytes(path), before) << "a refused file must not be modified";
}

TEST(SqliteCatalogTest, NewFileGetsSchemaWalAndApplicationId) {
  TempDir dir;
  const std::string path = dir.File("new.db");
  {
    auto catalog = OpenCatalog(path);
    ASSERT_OK(catalog);
  }
  RawDb raw(path);
  EXPECT_EQ(raw.Text("PRAGMA user_version"), "3");
  EXPECT_EQ(raw.Text("PRAGMA application_id"), std::to_string(0x4D445831));
  EXPECT_EQ(raw.Text("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.Text("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master "
                     "WHERE type = 'table' ORDER BY name)"),
            "analyses,detections,folders,media,media_labels,models,runs");
  EXPECT_EQ(raw.Text("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'detections_label_score'"), "1");
}

TEST(SqliteCatalogTest, ReopenKeepsDataAndDoesNotMigrateAgain) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  int64_t model = 0;
  {
    auto catalog = OpenCatalog(path);
    ASSERT_OK(catalog);
    model = Get((*catalog)->RegisterModel({"centernet", "v1", ""}));
    ScanChanges changes;
    changes.added.push_back(Stat("/a.jpg", 1, 1));
    ASSERT_OK((*catalog)->ApplyScan(changes));
    auto ids = (*catalog)->LoadFileIndex();
    ASSERT_OK((*catalog)->CommitBatch(model, 0, {Ok((*ids)[0].id, {Det("dog", 0.5f)})}));
  }
  for (int i = 0; i < 2; ++i) {
    auto catalog = OpenCatalog(path);
    ASSERT_OK(catalog);
    auto summary = (*catalog)->Summary(model);
    ASSERT_OK(summary);
    EXPECT_EQ(summary->done, 1);
  }
  EXPECT_EQ(RawDb(path).Text("PRAGMA user_version"), "3");
}

TEST(SqliteCatalogTest, EmptyFileBecomesACatalog) {
  TempDir dir;
  const std::string path = dir.File("empty.db");
  WriteBytes(path, "");
  ASSERT_OK(OpenCatalog(path));
  EXPECT_EQ(RawDb(path).Text("PRAGMA user_version"), "3");
}

TEST(SqliteCatalogTest, RandomBytesAreCorruptAndUntouched) {
  TempDir dir;
  const std::string path = dir.File("random.db");
  WriteBytes(path, RandomBytes(64 * 1024, 7));
  ExpectRefusedUntouched(path, StatusCode::kCorrupt, "not a mediadex catalog");
  const std::string text = dir.File("notes.txt");
  WriteBytes(text, "hello\n");
  ExpectRefusedUntouched(text, StatusCode::kCorrupt, "not an SQLite database");
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(SqliteCatalogTest, ForeignSqliteDatabaseIsCorruptAndUntouched) {
  TempDir dir;
  const std::string path = dir.File("contacts.db");
  {
    RawDb raw(path);
    raw.Exec("CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO contacts (name) VALUES ('ada')");
  }
  ExpectRefusedUntouched(path, StatusCode::kCorrupt, "contacts");
  // Even with our table names it is not ours without our application id.
  const std::string lookalike = dir.File("lookalike.db");
  {
    RawDb raw(lookalike);
    raw.Exec("CREATE TABLE media (id INTEGER PRIMARY KEY); PRAGMA user_version = 1");
  }
  ExpectRefusedUntouched(lookalike, StatusCode::kCorrupt, "not a mediadex catalog");
}

TEST(SqliteCatalogTest, CatalogMissingATableIsCorruptAndUntouched) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  ASSERT_OK(OpenCatalog(path));
  {
    RawDb raw(path);
    raw.Exec("PRAGMA journal_mode = DELETE; DROP TABLE runs");
  }
  ExpectRefusedUntouched(path, StatusCode::kCorrupt, "table 'runs' is missing");
}

TEST(SqliteCatalogTest, DamagedPagesAreAnErrorNotACrash) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  ASSERT_OK(OpenCatalog(path));
  { RawDb(path).Exec("PRAGMA journal_mode = DELETE"); }
  std::string bytes = ReadBytes(path);
  ASSERT_GT(bytes.size(), 200u);
  // Keep the 100-byte header, scramble the schema page behind it.
  std::string noise = RandomBytes(bytes.size() - 100, 11);
  bytes.replace(100, noise.size(), noise);
  WriteBytes(path, bytes);
  ExpectRefusedUntouched(path, StatusCode::kCorrupt, "");
}

TEST(SqliteCatalogTest, NewerSchemaIsUnsupportedAndUntouched) {
  TempDir dir;
  const std::string path = dir.File("future.db");
  ASSERT_OK(OpenCatalog(path));
  { RawDb(path).Exec("PRAGMA journal_mode = DELETE; PRAGMA user_version = 99"); }
  ExpectRefusedUntouched(path, StatusCode::kUnsupported, "newer than this build");
}

TEST(SqliteCatalogTest, UnusablePathsAreClearErrors) {
  TempDir dir;
  auto in_dir = OpenCatalog(dir.path());
  EXPECT_FALSE(in_dir.ok());
  EXPECT_NE(in_dir.status().message().find(dir.path()), std::string::npos);
  auto missing = OpenCatalog(dir.File("no/such/dir/c.db"));
  EXPECT_EQ(missing.status().code(), StatusCode::kIOError) << missing.status().ToString();
  EXPECT_EQ(OpenCatalog("").status().code(), StatusCode::kInvalidArgument);
  // A URL goes to the PostgreSQL backend, never to a file named "postgres:": no server there.
  auto url = OpenCatalog("postgres://127.0.0.1:1/mediadex?connect_timeout=2");
  EXPECT_EQ(url.status().code(), StatusCode::kIOError) << url.status().ToString();
  EXPECT_NE(url.status().message().find("cannot connect to PostgreSQL"), std::string::npos) << url.status().ToString();
}

// Sets up a catalog with one committed batch: 3 files, the first one done with a dog.
struct Committed {
  int64_t model = 0;
  std::vector<int64_t> ids;
};
Committed SetUpCommitted(Catalog& catalog) {
  Committed c;
  c.model = Get(catalog.RegisterModel({"centernet", "v1", ""}));
  ScanChanges changes;
  for (const char* p : {"/lib/1.jpg", "/lib/2.jpg", "/lib/3.jpg"}) changes.added.push_back(Stat(p, 1, 1));
  EXPECT_OK(catalog.ApplyScan(changes));
  for (const auto& row : Get(catalog.LoadFileIndex())) c.ids.push_back(row.id);
  std::sort(c.ids.begin(), c.ids.end());
  EXPECT_OK(catalog.CommitBatch(c.model, 0, {Ok(c.ids[0], {Det("dog", 0.9f)})}));
  return c;
}

TEST(SqliteCatalogTest, ReaderInAnotherThreadReadsWhileAWriterHoldsATransaction) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  auto writer = OpenCatalog(path);
  ASSERT_OK(writer);
  Committed c = SetUpCommitted(**writer);

  // Another connection holds the write lock with an uncommitted batch in it.
  RawDb other(path);
  other.Exec("BEGIN IMMEDIATE");
  other.Exec("INSERT INTO detections (media_id, model_id, label, class_id, score, x1, y1, x2, y2) VALUES (" +
             std::to_string(c.ids[1]) + ", " + std::to_string(c.model) + ", 'dog', 1, 0.99, 0, 0, 1, 1)");

  StatusSummary summary;
  std::vector<SearchHit> hits;
  Status status;
  double seconds = 0;
  std::thread reader([&] {
    auto start = std::chrono::steady_clock::now();
    auto catalog = OpenCatalog(path);
    if (!catalog.ok()) { status = catalog.status(); return; }
    auto s = (*catalog)->Summary(c.model);
    auto h = (*catalog)->Search({{"dog"}});
    seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!s.ok()) { status = s.status(); return; }
    if (!h.ok()) { status = h.status(); return; }
    summary = *s;
    hits = *h;
  });
  reader.join();
  ASSERT_OK(status);
  EXPECT_LT(seconds, 1.0) << "a reader must not wait for the writer";
  EXPECT_EQ(summary.done, 1);
  EXPECT_EQ(summary.pending, 2);
  ASSERT_EQ(hits.size(), 1u) << "the uncommitted detection must not be visible";
  EXPECT_EQ(hits[0].media_id, c.ids[0]);

  other.Exec("COMMIT");
  auto after = (*writer)->Search({{"dog"}});
  ASSERT_OK(after);
  EXPECT_EQ(after->size(), 2u);
}

TEST(SqliteCatalogTest, ReaderInAnotherProcessReadsWhileAWriterHoldsATransaction) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  auto writer = OpenCatalog(path);
  ASSERT_OK(writer);
  Committed c = SetUpCommitted(**writer);
  RawDb other(path);
  other.Exec("BEGIN IMMEDIATE");
  other.Exec("UPDATE media SET gone = 1");

  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: exit code 0 only when it read the committed state.
    auto catalog = OpenCatalog(path);
    if (!catalog.ok()) _exit(2);
    auto s = (*catalog)->Summary(c.model);
    _exit(s.ok() && s->done == 1 && s->total == 3 && s->gone == 0 ? 0 : 1);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  other.Exec("ROLLBACK");
  ASSERT_TRUE(WIFEXITED(wstatus));
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "2: open failed, 1: wrong counts";
}

TEST(SqliteCatalogTest, CommittedBatchSurvivesKill9AndTheOpenOneVanishes) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  int64_t model = 0;
  std::vector<int64_t> ids;
  {
    auto catalog = OpenCatalog(path);
    ASSERT_OK(catalog);
    Committed c = SetUpCommitted(**catalog);
    model = c.model;
    ids = c.ids;
  }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto catalog = OpenCatalog(path);
    if (!catalog.ok()) _exit(2);
    if (!(*catalog)->CommitBatch(model, 0, {Ok(ids[1], {Det("cat", 0.8f)})}).ok()) _exit(3);
    // A second batch is half written when the process dies.
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_exec(db, ("INSERT INTO detections (media_id, model_id, label, class_id, score, x1, y1, x2, y2) VALUES (" +
                      std::to_string(ids[2]) + ", " + std::to_string(model) + ", 'bird', 1, 0.5, 0, 0, 1, 1)")
                         .c_str(),
                 nullptr, nullptr, nullptr);
    kill(getpid(), SIGKILL);
    _exit(4);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited with " << WEXITSTATUS(wstatus);

  auto catalog = OpenCatalog(path);
  ASSERT_OK(catalog);
  auto summary = (*catalog)->Summary(model);
  ASSERT_OK(summary);
  EXPECT_EQ(summary->done, 2) << "the committed batch survived";
  auto cats = (*catalog)->Search({{"cat"}});
  ASSERT_OK(cats);
  EXPECT_EQ(cats->size(), 1u);
  auto birds = (*catalog)->Search({{"bird"}});
  ASSERT_OK(birds);
  EXPECT_TRUE(birds->empty()) << "the batch in flight is lost, not half-applied";
}

TEST(SqliteCatalogTest, SecondWriterWaitsForTheFirst) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  auto a = OpenCatalog(path);
  auto b = OpenCatalog(path);
  ASSERT_OK(a);
  ASSERT_OK(b);
  Committed c = SetUpCommitted(**a);
  // A writer holding the lock briefly delays the other; the busy timeout absorbs it.
  RawDb other(path);
  other.Exec("BEGIN IMMEDIATE");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    other.Exec("COMMIT");
  });
  Status status = (*b)->CommitBatch(c.model, 0, {Ok(c.ids[1], {Det("cat", 0.8f)})});
  release.join();
  EXPECT_OK(status);
  EXPECT_EQ((*a)->Summary(c.model)->done, 2);
}

// SQLite's own SQLITE_FULL (here from PRAGMA max_page_count, as a full disk gives it) reads
// "disk full" naming the catalog, not "database or disk is full" or "disk I/O error".
TEST(SqliteCatalogTest, DiskFullIsSaidAsDiskFullNamingTheCatalog) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  ASSERT_OK(OpenCatalog(path));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_extended_result_codes(db, 1);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA max_page_count = 40", nullptr, nullptr, nullptr), SQLITE_OK);
  int rc = SQLITE_OK;
  for (int i = 0; i < 10000 && rc == SQLITE_OK; ++i) {
    const std::string sql = "INSERT INTO media (path, size, mtime_ns, kind, first_seen, last_seen) VALUES ('/lib/" +
                            std::string(200, 'x') + std::to_string(i) + ".jpg', 1, 1, 'image', 0, 0)";
    rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  }
  ASSERT_EQ(rc & 0xff, SQLITE_FULL) << sqlite3_errmsg(db);
  const Status status = sqlite::SqlError(db, rc, path, "commit failed");
  sqlite3_close(db);
  EXPECT_EQ(status.code(), StatusCode::kIOError);
  EXPECT_EQ(status.message().rfind(path + ": disk full", 0), 0u) << status.message();
  EXPECT_EQ(status.message().find("disk I/O error"), std::string::npos) << status.message();
  // Other I/O errors keep SQLite's words.
  EXPECT_EQ(sqlite::SqlError(nullptr, SQLITE_IOERR_READ, path, "read").message().find("disk full"), std::string::npos);
}

// A damaged page that the header and schema checks do not see (here: an index page of the
// media table) is found by PRAGMA quick_check on open: Corrupt, naming the file, and the file
// is not written to.
TEST(SqliteCatalogTest, DamagedIndexPageIsRefusedOnOpenAndLeftUntouched) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  {
    auto catalog = OpenCatalog(path);
    ASSERT_OK(catalog);
    ScanChanges changes;
    for (int i = 0; i < 3000; ++i) changes.added.push_back(Stat("/lib/photo-" + std::to_string(i) + ".jpg", 1, 1));
    ASSERT_OK((*catalog)->ApplyScan(changes));
  }
  int page = 0, page_size = 0;
  {
    RawDb raw(path);
    raw.Exec("PRAGMA journal_mode = DELETE");  // everything in the main file
    page_size = std::stoi(raw.Text("PRAGMA page_size"));
    // The root page of media's path index; its first child pages follow it in the file.
    page = std::stoi(raw.Text("SELECT rootpage FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'media' "
                              "AND sql IS NULL"));
    EXPECT_EQ(raw.Text("PRAGMA quick_check"), "ok");
  }
  std::string bytes = ReadBytes(path);
  ASSERT_GT(bytes.size(), static_cast<size_t>(page) * page_size);
  const std::string noise = RandomBytes(page_size - 8, 22);
  bytes.replace(static_cast<size_t>(page - 1) * page_size + 8, noise.size(), noise);  // keep the page header
  WriteBytes(path, bytes);
  ExpectRefusedUntouched(path, StatusCode::kCorrupt, "quick_check");
}

// Two processes: while one holds the run lock, the other is refused with the holder's pid;
// once the holder is gone (here it exits without unlocking, like a kill -9) the lock is free.
TEST(SqliteCatalogTest, RunLockRefusesASecondProcessUntilTheFirstIsGone) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  int ready[2], go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto lock = RunLock::Acquire(path);
    const char c = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    char wait;
    (void)!::read(go[0], &wait, 1);
    ::_exit(0);  // no destructors: the kernel drops the flock with the process
  }
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto second = RunLock::Acquire(path);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy);
  EXPECT_NE(second.status().message().find(path + ": another `mediadex index` run (pid " + std::to_string(child) + ")"),
            std::string::npos)
      << second.status().message();
  (void)!::write(go[1], "x", 1);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_OK(RunLock::Acquire(path));
}

// File names are bytes: one that is not UTF-8 (Latin-1, a cut sequence, a lone continuation
// byte, a backslash) is stored and read back exactly, by every query that returns paths, also
// after the catalog is closed and opened again.
TEST(SqliteCatalogTest, PathsThatAreNotUtf8AreStoredAndReadBackByteForByte) {
  TempDir dir;
  const std::string path = dir.File("c.db");
  const std::vector<std::string> bytes = {"/lib/caf\xE9.jpg", "/lib/\xE6\x97.jpg", "/lib/\x80\xFF.png",
                                          "/lib/back\\slash\\xe9 \xC3\xA9.jpg"};
  {
    auto catalog = OpenCatalog(path);
    ASSERT_OK(catalog);
    const int64_t model = Get((*catalog)->RegisterModel({"centernet", "v1", ""}));
    ScanChanges changes;
    for (const auto& b : bytes) changes.added.push_back(Stat(b, 1, 1));
    ASSERT_OK((*catalog)->ApplyScan(changes));
    std::vector<MediaResult> results;
    for (const auto& row : Get((*catalog)->LoadFileIndex())) results.push_back(Ok(row.id, {Det("dog", 0.9f)}));
    results.back().ok = false;
    results.back().error = "bad \xE9 bytes";
    results.back().detections.clear();
    ASSERT_OK((*catalog)->CommitBatch(model, 0, results));
  }
  auto catalog = OpenCatalog(path);
  ASSERT_OK(catalog);
  std::set<std::string> want(bytes.begin(), bytes.end()), indexed, exported, found, failed;
  for (const auto& row : Get((*catalog)->LoadFileIndex())) indexed.insert(row.path);
  for (const auto& row : Get((*catalog)->ExportAll(0))) exported.insert(row.path);
  for (const auto& hit : Get((*catalog)->Search({{"dog"}}))) found.insert(hit.path);
  for (const auto& e : Get((*catalog)->Errors(0, 0))) {
    failed.insert(e.path);
    EXPECT_EQ(e.error, "bad \xE9 bytes");
  }
  EXPECT_EQ(indexed, want);
  EXPECT_EQ(exported.size() + failed.size(), want.size());
  EXPECT_EQ(found, exported);
  for (const auto& p : failed) EXPECT_TRUE(want.count(p)) << p;
  for (const auto& p : exported) EXPECT_TRUE(want.count(p)) << p;
}

}  // namespace
}  // namespace mediadex::catalog
