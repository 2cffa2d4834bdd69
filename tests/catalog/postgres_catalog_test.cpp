// What only the PostgreSQL backend must show, against the tests/pg fixture's real server:
// migrations raced by 8 openers, paths that are not UTF-8, a batch failing midway, readers while
// a writer commits, the run lock, and databases that are not ours.
#include "catalog/postgres/postgres_catalog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "catalog/catalog.h"
#include "catalog/postgres/pg_connection.h"
#include "catalog/postgres/pg_schema.h"
#include "catalog/run_lock.h"
#include "catalog_test_util.h"
#include "pg_test_util.h"
#include "testutil.h"

namespace mediadex::catalog {
namespace {

using testing::Det;
using testing::Failed;
using testing::Get;
using testing::Ok;
using testing::Stat;

class PostgresCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(pgtest::FreshDatabase(::testing::UnitTest::GetInstance()->current_test_info()->name(), &url_));
  }
  std::unique_ptr<Catalog> Open() {
    auto opened = OpenCatalog(url_);
    EXPECT_OK(opened);
    return opened.ok() ? std::move(opened).value() : nullptr;
  }
  std::unique_ptr<postgres::Connection> Raw() {
    auto conn = postgres::Connection::Connect(url_);
    EXPECT_OK(conn);
    return conn.ok() ? std::move(conn).value() : nullptr;
  }
  std::string url_;
};

TEST_F(PostgresCatalogTest, EightOpenersRaceOnAnEmptyDatabase) {
  constexpr int kOpeners = 8;
  std::vector<std::thread> threads;
  std::vector<Status> results(kOpeners);
  std::atomic<int> ready{0};
  for (int i = 0; i < kOpeners; ++i) {
    threads.emplace_back([&, i] {
      ready++;
      while (ready < kOpeners) std::this_thread::yield();  // all start together
      auto opened = OpenCatalog(url_);
      results[i] = opened.status();
      if (opened.ok()) results[i] = (*opened)->RegisterModel({"centernet", "v1", ""}).status();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kOpeners; ++i) EXPECT_TRUE(results[i].ok()) << "opener " << i << ": " << results[i].ToString();
  auto conn = Raw();
  ASSERT_TRUE(conn);
  EXPECT_EQ(*conn->QueryInt("SELECT COUNT(*) FROM mediadex_schema"), 1);
  EXPECT_EQ(*conn->QueryInt("SELECT version FROM mediadex_schema"), postgres::LatestSchemaVersion());
  EXPECT_EQ(*conn->QueryInt("SELECT COUNT(*) FROM models"), 1) << "RegisterModel raced 8 times is one model";
}

TEST_F(PostgresCatalogTest, PathsThatAreNotUtf8RoundTrip) {
  auto catalog = Open();
  ASSERT_TRUE(catalog);
  const std::string latin1 = "/lib/caf\xe9.jpg";  // ISO-8859-1 bytes: invalid UTF-8
  const std::string raw("/lib/\xff\xfe\x01\\n\t\nx.jpg", 17);
  const std::string utf8 = "/lib/caf\xc3\xa9.jpg";
  ScanChanges changes;
  for (const auto& p : {latin1, raw, utf8}) changes.added.push_back(Stat(p, 10, 1));
  ASSERT_OK(catalog->ApplyScan(changes));
  std::map<std::string, int64_t> ids;
  for (const auto& row : Get(catalog->LoadFileIndex())) ids[row.path] = row.id;
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids.count(latin1), 1u);
  EXPECT_EQ(ids.count(raw), 1u);
  EXPECT_EQ(ids.count(utf8), 1u);

  const int64_t model = Get(catalog->RegisterModel({"centernet", "v1", ""}));
  std::vector<std::string> pending;
  for (const auto& row : Get(catalog->PendingFor(model, 0))) pending.push_back(row.path);
  EXPECT_EQ(pending, (std::vector<std::string>{utf8, latin1, raw})) << "bytewise order, as SQLite's BINARY";

  const std::string error = latin1 + ": truncated JPEG data";
  ASSERT_OK(catalog->CommitBatch(model, 0, {Ok(ids[raw], {Det("dog", 0.9f)}), Failed(ids[latin1], error)}));
  auto errors = Get(catalog->Errors(model, 10));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, latin1);
  EXPECT_EQ(errors[0].error, error);
  auto hits = Get(catalog->Search({{"dog"}}));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].path, raw);

  // Moves keep the bytes too, and a run's roots may be any bytes.
  ScanChanges moved;
  moved.gone.push_back(ids[raw]);
  moved.moved.push_back({ids[raw], "/lib/\x80.jpg"});
  ASSERT_OK(catalog->ApplyScan(moved));
  EXPECT_EQ(Get(catalog->ExportAll(model)).at(0).path, "/lib/\x80.jpg");
  EXPECT_OK(catalog->BeginRun({model, "cpu", "", {latin1, raw}}));
}

TEST_F(PostgresCatalogTest, BatchFailingMidwayLeavesNothing) {
  auto catalog = Open();
  ASSERT_TRUE(catalog);
  const int64_t model = Get(catalog->RegisterModel({"centernet", "v1", ""}));
  ScanChanges changes;
  changes.added = {Stat("/lib/a.jpg", 1, 1), Stat("/lib/b.jpg", 1, 1)};
  ASSERT_OK(catalog->ApplyScan(changes));
  std::map<std::string, int64_t> ids;
  for (const auto& row : Get(catalog->LoadFileIndex())) ids[row.path] = row.id;
  const int64_t run = Get(catalog->BeginRun({model, "cpu", "", {}}));
  ASSERT_OK(catalog->CommitBatch(model, run, {Ok(ids["/lib/a.jpg"], {Det("cat", 0.5f)}, "old")}));

  // The media rows, old detections and analyses are written before the detections go in; the
  // last detection's label is not valid UTF-8, so the server refuses the COPY at its end.
  Status status = catalog->CommitBatch(model, run,
                                       {Ok(ids["/lib/a.jpg"], {Det("dog", 0.9f)}, "new"),
                                        Ok(ids["/lib/b.jpg"], {Det("dog", 0.8f), Det("d\xffg", 0.7f)})});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("COPY"), std::string::npos) << status.ToString();

  std::vector<std::string> pending;
  for (const auto& row : Get(catalog->PendingFor(model, 0))) pending.push_back(row.path);
  EXPECT_EQ(pending, (std::vector<std::string>{"/lib/b.jpg"}));
  auto rows = Get(catalog->ExportAll(model));
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].detections.size(), 1u);
  EXPECT_EQ(rows[0].detections[0].detection.label, "cat") << "the old detections are still there";
  for (const auto& row : Get(catalog->LoadFileIndex())) {
    EXPECT_EQ(row.content_hash, row.path == "/lib/a.jpg" ? "old" : "") << row.path;
  }
  EXPECT_EQ(Get(catalog->RecentRuns(1)).at(0).counts.done, 1);
  EXPECT_TRUE(catalog->CommitBatch(model, run, {Ok(ids["/lib/b.jpg"], {Det("dog", 0.8f)})}).ok()) << "still usable";
}

TEST_F(PostgresCatalogTest, MultiRowInsertMatchesCopy) {
  auto opened = postgres::PostgresCatalog::Open(url_);
  ASSERT_OK(opened);
  auto& catalog = **opened;
  catalog.set_detection_insert(postgres::DetectionInsert::kMultiRowInsert);
  const int64_t model = Get(catalog.RegisterModel({"centernet", "v1", ""}));
  ScanChanges changes;
  for (int i = 0; i < 300; ++i) changes.added.push_back(Stat("/lib/" + std::to_string(i) + ".jpg", 1, 1));
  ASSERT_OK(catalog.ApplyScan(changes));
  std::vector<MediaResult> batch;
  for (const auto& row : Get(catalog.LoadFileIndex())) {
    batch.push_back(Ok(row.id, {Det("dog", 0.9f), Det("cat", 0.25f, 0.1f, 0.2f, 0.3f, 0.4f), Det("tab\tlabel", 0.5f),
                                Det("bird", 0.125f)}));
  }
  ASSERT_OK(catalog.CommitBatch(model, 0, batch));  // 1200 rows: two INSERTs of at most 1000
  size_t n = 0;
  for (const auto& row : Get(catalog.ExportAll(model))) {
    ASSERT_EQ(row.detections.size(), 4u);
    EXPECT_EQ(row.detections[1].detection.label, "tab\tlabel");
    EXPECT_FLOAT_EQ(row.detections[2].detection.box.x1, 0.1f) << "best first: the 0.25 cat is third";
    n += row.detections.size();
  }
  EXPECT_EQ(n, 1200u);
}

TEST_F(PostgresCatalogTest, ReadersNeverSeeHalfABatch) {
  auto writer = Open();
  ASSERT_TRUE(writer);
  const int64_t model = Get(writer->RegisterModel({"centernet", "v1", ""}));
  constexpr int kBatches = 30, kPerBatch = 20, kDetsPerFile = 3;
  ScanChanges changes;
  for (int i = 0; i < kBatches * kPerBatch; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "/lib/%05d.jpg", i);
    changes.added.push_back(Stat(name, 1, 1));
  }
  ASSERT_OK(writer->ApplyScan(changes));
  std::atomic<bool> writing{true};
  std::atomic<int> reads{0};
  std::string reader_problem;
  std::thread reader([&] {
    auto catalog = OpenCatalog(url_);
    if (!catalog.ok()) {
      reader_problem = catalog.status().ToString();
      return;
    }
    while (writing && reader_problem.empty()) {
      auto summary = (*catalog)->Summary(model);
      auto rows = (*catalog)->ExportAll(model);
      if (!summary.ok() || !rows.ok()) {
        reader_problem = (summary.ok() ? rows.status() : summary.status()).ToString();
        break;
      }
      if (summary->done % kPerBatch != 0) reader_problem = "summary saw " + std::to_string(summary->done) + " done";
      if (rows->size() % kPerBatch != 0) reader_problem = "export saw " + std::to_string(rows->size()) + " files";
      for (const auto& row : *rows) {
        if (row.detections.size() != kDetsPerFile) reader_problem = row.path + " has a partial set of detections";
      }
      reads++;
    }
  });
  auto pending = Get(writer->PendingFor(model, 0));
  for (int b = 0; b < kBatches; ++b) {
    std::vector<MediaResult> batch;
    for (int i = 0; i < kPerBatch; ++i) {
      batch.push_back(Ok(pending[b * kPerBatch + i].id, {Det("dog", 0.9f), Det("cat", 0.8f), Det("car", 0.7f)}));
    }
    ASSERT_OK(writer->CommitBatch(model, 0, batch));
  }
  writing = false;
  reader.join();
  EXPECT_EQ(reader_problem, "");
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(Get(writer->Summary(model)).done, kBatches * kPerBatch);
}

TEST_F(PostgresCatalogTest, SecondIndexRunIsRefusedNamingTheFirst) {
  auto catalog = Open();  // the schema exists, as when `index` opens it first
  ASSERT_TRUE(catalog);
  {
    auto first = RunLock::Acquire(url_);
    ASSERT_OK(first);
    auto second = RunLock::Acquire(url_);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kBusy);
    EXPECT_NE(second.status().message().find("mediadex index pid " + std::to_string(::getpid())), std::string::npos)
        << second.status().ToString();
  }
  EXPECT_TRUE(RunLock::Acquire(url_).ok()) << "released when the first run's lock went";
}

TEST_F(PostgresCatalogTest, ForeignAndNewerDatabasesAreRefusedUntouched) {
  auto conn = Raw();
  ASSERT_TRUE(conn);
  ASSERT_OK(conn->Exec("CREATE TABLE media (id INT, other TEXT)"));
  auto foreign = OpenCatalog(url_);
  EXPECT_EQ(foreign.status().code(), StatusCode::kCorrupt) << foreign.status().ToString();
  EXPECT_EQ(*conn->QueryInt("SELECT COUNT(*) FROM pg_tables WHERE tablename = 'mediadex_schema'"), 0);
  ASSERT_OK(conn->Exec("DROP TABLE media"));

  ASSERT_TRUE(Open());
  ASSERT_OK(conn->Exec("UPDATE mediadex_schema SET version = 99"));
  auto newer = OpenCatalog(url_);
  EXPECT_EQ(newer.status().code(), StatusCode::kUnsupported) << newer.status().ToString();
}

TEST_F(PostgresCatalogTest, AnUnreachableServerIsAnIoErrorWithoutThePassword) {
  auto opened = OpenCatalog("postgresql://mdx:hunter2@127.0.0.1:1/none?connect_timeout=2");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kIOError);
  EXPECT_EQ(opened.status().message().find("hunter2"), std::string::npos) << opened.status().ToString();
}

}  // namespace
}  // namespace mediadex::catalog
