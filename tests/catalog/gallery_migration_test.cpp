// SQLite migrations 2 and 3 (the gallery's indexes and derived tables) on files an older build
// left, with rows in them: the new tables are backfilled so the gallery answers as if they had
// always been kept.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "catalog/catalog.h"
#include "catalog/sqlite/schema.h"
#include "catalog_test_util.h"
#include "testutil.h"

namespace mediadex::catalog {
namespace {

using testing::Get;
using testing::TempDir;

void Exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db) << ": " << sql;
  sqlite3_close(db);
}

int64_t Int(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  int64_t v = -1;
  if (stmt && sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return v;
}

// A catalog as a build with `version` migrations wrote it, with three files (one gone).
std::string OldCatalog(const TempDir& dir, int version) {
  const std::string path = dir.File("old.db");
  std::string sql;
  for (int v = 1; v <= version; ++v) sql += sqlite::MigrationSql(v);
  sql += "PRAGMA application_id = " + std::to_string(sqlite::kApplicationId) + ";";
  sql += "PRAGMA user_version = " + std::to_string(version) + ";";
  sql +=
      "INSERT INTO models (id, name, version, settings, created_at) VALUES (1, 'centernet', 'v1', '', 0);"
      "INSERT INTO runs (id, model_id, started_at) VALUES (1, 1, 0);"
      "INSERT INTO media (id, path, size, mtime_ns, capture_time, gone, first_seen, last_seen) VALUES "
      "(1, '/lib/2024/trip/a.jpg', 1, 1, 100, 0, 0, 0), (2, '/lib/2024/trip/day2/b.jpg', 1, 1, 200, 0, 0, 0),"
      "(3, '/lib/2024/trip/gone.jpg', 1, 1, 300, 1, 0, 0), (4, 'nofolder.jpg', 1, 1, 50, 0, 0, 0),"
      "(5, '/lib/caf\xe9/c.jpg', 1, 1, 60, 0, 0, 0);"
      "INSERT INTO analyses (media_id, model_id, status, analysed_at, size, mtime_ns) VALUES "
      "(1, 1, 'done', 0, 1, 1), (2, 1, 'done', 0, 1, 1), (3, 1, 'done', 0, 1, 1), (5, 1, 'done', 0, 1, 1);"
      "INSERT INTO detections (media_id, model_id, label, class_id, score, x1, y1, x2, y2) VALUES "
      "(1, 1, 'dog', 1, 0.4, 0, 0, 1, 1), (1, 1, 'Dog', 1, 0.8, 0, 0, 1, 1), (1, 1, 'cat', 2, 0.3, 0, 0, 1, 1),"
      "(2, 1, 'dog', 1, 0.9, 0, 0, 1, 1), (3, 1, 'dog', 1, 0.99, 0, 0, 1, 1), (5, 1, 'cat', 2, 0.5, 0, 0, 1, 1);";
  Exec(path, sql);
  return path;
}

void ExpectGalleryAnswers(const std::string& path) {
  auto c = Get(OpenCatalog(path));
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(Int(path, "PRAGMA user_version"), sqlite::LatestSchemaVersion());
  MediaFilter f;
  f.label_groups = {{"dog"}};
  f.sort = MediaSort::kScore;
  auto page = Get(c->ListMedia(f));
  ASSERT_EQ(page.items.size(), 2u);  // the gone file's 0.99 is not shown
  EXPECT_EQ(page.items[0].id, 2);
  EXPECT_EQ(page.items[1].id, 1);
  EXPECT_FLOAT_EQ(page.items[1].best_score, 0.8f);  // the best of 'dog' and 'Dog'
  f = {};
  f.folder = "2024/trip";
  page = Get(c->ListMedia(f));
  ASSERT_EQ(page.items.size(), 2u);  // a/b/... matches deeper folders too
  EXPECT_EQ(page.items[0].id, 2);
  f.folder = "caf\xe9";  // a Latin-1 name: bytes, not UTF-8
  page = Get(c->ListMedia(f));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, 5);
  auto labels = Get(c->Labels("", 10, 0));
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0].files, 2);  // dog: files 1 and 2 (3 is gone)
  EXPECT_EQ(labels[1].files, 2);  // cat: files 1 and 5
  EXPECT_EQ(Int(path, "SELECT COUNT(*) FROM media WHERE folder_id IS NULL"), 0);
}

TEST(GalleryMigration, Version1FileGainsIndexesAndBackfilledTables) {
  TempDir dir;
  ExpectGalleryAnswers(OldCatalog(dir, 1));
  EXPECT_EQ(Int(dir.File("old.db"), "SELECT COUNT(*) FROM sqlite_master WHERE name = 'media_capture'"), 1);
}

TEST(GalleryMigration, Version2FileGainsBackfilledTables) {
  TempDir dir;
  ExpectGalleryAnswers(OldCatalog(dir, 2));
  EXPECT_EQ(Int(dir.File("old.db"), "SELECT COUNT(*) FROM folders"), 4);  // trip/, trip/day2/, "", café/
}

}  // namespace
}  // namespace mediadex::catalog
