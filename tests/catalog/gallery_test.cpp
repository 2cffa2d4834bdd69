// The SQLite catalog's gallery reads (catalog.h "Gallery reads") on a real file.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>

#include "catalog/catalog.h"
#include "catalog_test_util.h"
#include "testutil.h"

namespace mediadex::catalog {
namespace {

using testing::Det;
using testing::Get;
using testing::Stat;
using testing::TempDir;

class GalleryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = Get(OpenCatalog(dir_.File("catalog.db")));
    ASSERT_NE(catalog_, nullptr);
    model_ = Get(catalog_->RegisterModel({"centernet", "v1", "iou=0.4"}));
    run_ = Get(catalog_->BeginRun({model_, "cpu", "", {"/lib"}}));
    ScanChanges scan;
    const char* paths[] = {"/lib/2024/trip/a.jpg", "/lib/2024/trip/b.jpg", "/lib/2024/home/c.jpg",  "/lib/2023/d.jpg",
                           "/lib/2023/broken.jpg", "/lib/new.jpg",         "/lib/2024/trip_x/e.jpg"};
    for (const char* p : paths) scan.added.push_back(Stat(p, 10, 1));
    ASSERT_OK(catalog_->ApplyScan(scan));
    auto index = Get(catalog_->LoadFileIndex());
    for (const auto& row : index) ids_[row.path] = row.id;
    std::vector<MediaResult> results;
    auto ok = [&](const char* p, int64_t t, std::vector<StoredDetection> dets) {
      MediaResult r;
      r.media_id = ids_[p];
      r.content_hash = "h" + std::to_string(r.media_id);
      r.width = 100;
      r.height = 50;
      r.orientation = 6;
      r.capture_time = t;
      r.detections = std::move(dets);
      results.push_back(r);
    };
    ok("/lib/2024/trip/a.jpg", 1717200000, {Det("dog", 0.9f), Det("person", 0.5f)});
    ok("/lib/2024/trip/b.jpg", 1717300000, {Det("cat", 0.7f)});
    ok("/lib/2024/home/c.jpg", 1717100000, {Det("dog", 0.3f), Det("cat", 0.95f)});
    ok("/lib/2023/d.jpg", 0, {Det("person", 0.8f)});
    ok("/lib/2024/trip_x/e.jpg", 1717000000, {});
    MediaResult bad;
    bad.media_id = ids_["/lib/2023/broken.jpg"];
    bad.ok = false;
    bad.error = "Corrupt: truncated";
    results.push_back(bad);
    ASSERT_OK(catalog_->CommitBatch(model_, run_, results));
  }

  std::vector<std::string> Paths(MediaFilter f) {
    std::vector<std::string> out;
    for (int page = 0; page < 20; ++page) {
      auto got = Get(catalog_->ListMedia(f));
      for (const auto& i : got.items) out.push_back(i.path);
      if (got.next_cursor.empty()) break;
      f.cursor = got.next_cursor;
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<Catalog> catalog_;
  int64_t model_ = 0, run_ = 0;
  std::map<std::string, int64_t> ids_;
};

TEST_F(GalleryTest, DateOrderNewestFirstUnknownLastAndPagesAreStable) {
  MediaFilter f;
  const auto all = Paths(f);
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all[0], "/lib/2024/trip/b.jpg");
  EXPECT_EQ(all[1], "/lib/2024/trip/a.jpg");
  f.limit = 2;
  EXPECT_EQ(Paths(f), all);  // the same order, page by page
  f.limit = 1;
  EXPECT_EQ(Paths(f), all);
}

TEST_F(GalleryTest, ScoreOrderAndCursor) {
  MediaFilter f;
  f.sort = MediaSort::kScore;
  f.limit = 1;
  const auto all = Paths(f);
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all[0], "/lib/2024/home/c.jpg");  // cat 0.95
  EXPECT_EQ(all[1], "/lib/2024/trip/a.jpg");  // dog 0.9
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), 7u);
  f.cursor = "not-a-cursor";
  EXPECT_EQ(catalog_->ListMedia(f).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(GalleryTest, LabelGroupsAllAndAny) {
  MediaFilter f;
  f.label_groups = {{"dog"}, {"person"}};
  EXPECT_EQ(Paths(f), std::vector<std::string>{"/lib/2024/trip/a.jpg"});
  f.label_groups = {{"DOG", "cat"}};
  EXPECT_EQ(Paths(f).size(), 3u);
  f.min_score = 0.8f;
  f.label_groups = {{"dog", "cat"}};
  EXPECT_EQ(Paths(f), (std::vector<std::string>{"/lib/2024/trip/a.jpg", "/lib/2024/home/c.jpg"}));
  f.sort = MediaSort::kScore;
  auto page = Get(catalog_->ListMedia(f));
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_FLOAT_EQ(page.items[0].best_score, 0.95f);
}

TEST_F(GalleryTest, FolderDatesStatus) {
  MediaFilter f;
  f.folder = "2024/trip";  // not 2024/trip_x
  EXPECT_EQ(Paths(f), (std::vector<std::string>{"/lib/2024/trip/b.jpg", "/lib/2024/trip/a.jpg"}));
  f = {};
  f.folder = "2024/trip%";  // LIKE wildcards are literal
  EXPECT_TRUE(Paths(f).empty());
  f = {};
  f.after = 1717150000;
  f.before = 1717250000;
  EXPECT_EQ(Paths(f), std::vector<std::string>{"/lib/2024/trip/a.jpg"});
  f = {};
  f.status = "failed";
  EXPECT_EQ(Paths(f), std::vector<std::string>{"/lib/2023/broken.jpg"});
  f.status = "pending";
  EXPECT_EQ(Paths(f), std::vector<std::string>{"/lib/new.jpg"});
  f.status = "nope";
  EXPECT_EQ(catalog_->ListMedia(f).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(GalleryTest, GetMediaWithDetectionsAndMetadata) {
  auto d = Get(catalog_->GetMedia(ids_["/lib/2024/trip/a.jpg"], 0));
  EXPECT_EQ(d.item.width, 100);
  EXPECT_EQ(d.item.orientation, 6);
  EXPECT_EQ(d.item.capture_time, 1717200000);
  EXPECT_EQ(d.item.status, AnalysisStatus::kDone);
  EXPECT_EQ(d.item.content_hash, "h" + std::to_string(ids_["/lib/2024/trip/a.jpg"]));
  ASSERT_EQ(d.detections.size(), 2u);
  EXPECT_EQ(d.detections[0].detection.label, "dog");
  EXPECT_EQ(d.item.labels, (std::vector<std::string>{"dog", "person"}));
  auto broken = Get(catalog_->GetMedia(ids_["/lib/2023/broken.jpg"], 0));
  EXPECT_EQ(broken.item.status, AnalysisStatus::kFailed);
  EXPECT_EQ(broken.item.error, "Corrupt: truncated");
  EXPECT_EQ(catalog_->GetMedia(999999, 0).status().code(), StatusCode::kNotFound);
}

TEST_F(GalleryTest, LabelsWithCountsByPrefix) {
  auto labels = Get(catalog_->Labels("", 10, 0));
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0].files, 2);
  auto c = Get(catalog_->Labels("C", 10, 0));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].label, "cat");
  EXPECT_TRUE(Get(catalog_->Labels("%", 10, 0)).empty());
}

TEST_F(GalleryTest, ErrorsPage) {
  auto page = Get(catalog_->ErrorsPage(0, 1, ""));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].path, "/lib/2023/broken.jpg");
  EXPECT_TRUE(page.next_cursor.empty());
  EXPECT_EQ(catalog_->ErrorsPage(0, 1, "zz").status().code(), StatusCode::kInvalidArgument);
}

// Migration 2 (media_capture) on a version-1 file: the index appears, the rows stay.
TEST(GalleryMigration, Version1FileGainsTheCaptureIndex) {
  TempDir dir;
  const std::string path = dir.File("catalog.db");
  {
    auto c = Get(OpenCatalog(path));
    ScanChanges scan;
    scan.added.push_back(Stat("/lib/a.jpg", 1, 1));
    ASSERT_OK(c->ApplyScan(scan));
  }
  auto sql = [&](const char* text) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, text, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
    sqlite3_close(db);
  };
  sql("DROP INDEX media_capture; PRAGMA user_version = 1");  // what a version-1 build left
  auto c = Get(OpenCatalog(path));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Get(c->LoadFileIndex()).size(), 1u);
  sql("SELECT 1 FROM sqlite_master WHERE name = 'media_capture'");
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'media_capture'", -1, &stmt, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 1);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

}  // namespace
}  // namespace mediadex::catalog
