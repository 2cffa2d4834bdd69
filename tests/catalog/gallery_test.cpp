// The gallery reads (catalog.h "Gallery reads"). This file builds twice, as the conformance
// suite does: into catalog_gallery_test (SQLite, a real file, label unit) and, with
// MEDIADEX_GALLERY_POSTGRES, into catalog_gallery_pg_test (PostgreSQL, label pg, a fresh
// database per test on the tests/pg fixture's server; its suites are named Postgres*). Both
// backends must give the same answers; SQLite-only cases are marked.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "catalog/catalog.h"
#include "catalog_test_util.h"
#include "testutil.h"
#ifdef MEDIADEX_GALLERY_POSTGRES
#include "catalog/postgres/postgres_catalog.h"
#include "pg_test_util.h"
#define MDX_GALLERY(suite) Postgres##suite
#else
#include "catalog/sqlite/sqlite_catalog.h"
#define MDX_GALLERY(suite) suite
#endif

namespace mediadex::catalog {
namespace {

// The catalog under test: SQLite in `dir`, or a fresh PostgreSQL database.
Result<std::unique_ptr<Catalog>> OpenTestCatalog(const testing::TempDir& dir) {
#ifdef MEDIADEX_GALLERY_POSTGRES
  (void)dir;
  std::string url;
  MDX_RETURN_IF_ERROR(pgtest::FreshDatabase("gallery", &url));
  return OpenCatalog(url);
#else
  return OpenCatalog(dir.File("catalog.db"));
#endif
}

using testing::Det;
using testing::Get;
using testing::Stat;
using testing::TempDir;

class MDX_GALLERY(GalleryTest) : public ::testing::Test {
 protected:
  void SetUp() override {
    catalog_ = Get(OpenTestCatalog(dir_));
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

TEST_F(MDX_GALLERY(GalleryTest), DateOrderNewestFirstUnknownLastAndPagesAreStable) {
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

TEST_F(MDX_GALLERY(GalleryTest), ScoreOrderAndCursor) {
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

TEST_F(MDX_GALLERY(GalleryTest), LabelGroupsAllAndAny) {
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

TEST_F(MDX_GALLERY(GalleryTest), FolderDatesStatus) {
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

TEST_F(MDX_GALLERY(GalleryTest), GetMediaWithDetectionsAndMetadata) {
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

TEST_F(MDX_GALLERY(GalleryTest), LabelsWithCountsByPrefix) {
  auto labels = Get(catalog_->Labels("", 10, 0));
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels[0].files, 2);
  auto c = Get(catalog_->Labels("C", 10, 0));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].label, "cat");
  EXPECT_TRUE(Get(catalog_->Labels("%", 10, 0)).empty());
}

TEST_F(MDX_GALLERY(GalleryTest), ErrorsPage) {
  auto page = Get(catalog_->ErrorsPage(0, 1, ""));
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].path, "/lib/2023/broken.jpg");
  EXPECT_TRUE(page.next_cursor.empty());
  EXPECT_EQ(catalog_->ErrorsPage(0, 1, "zz").status().code(), StatusCode::kInvalidArgument);
}

// Paths are bytes: a folder filter matches bytes that are not UTF-8 and a backslash literally
// (ASCII letters case-insensitively), and error pages come back byte for byte, in byte order.
TEST_F(MDX_GALLERY(GalleryTest), PathsThatAreNotUtf8FilterAndPage) {
  const std::string latin = "/lib/caf\xe9/x.jpg", slash = "/lib/a\\b/y.jpg", high = "/lib/\xff/z.jpg";
  ScanChanges scan;
  for (const auto& p : {latin, slash, high}) scan.added.push_back(Stat(p, 10, 1));
  ASSERT_OK(catalog_->ApplyScan(scan));
  for (const auto& row : Get(catalog_->LoadFileIndex())) ids_[row.path] = row.id;
  MediaResult ok;
  ok.media_id = ids_[latin];
  ok.content_hash = "latin";
  ok.detections = {Det("dog", 0.6f)};
  ASSERT_OK(catalog_->CommitBatch(model_, run_, {ok, testing::Failed(ids_[slash], "Corrupt: " + slash),
                                                 testing::Failed(ids_[high], "Corrupt: " + high)}));
  MediaFilter f;
  f.folder = "CAF\xe9";
  EXPECT_EQ(Paths(f), std::vector<std::string>{latin});
  f.folder = "caf";
  EXPECT_TRUE(Paths(f).empty());
  f.folder = "a\\b";
  EXPECT_EQ(Paths(f), std::vector<std::string>{slash});
  f.folder = "\xff";
  EXPECT_EQ(Paths(f), std::vector<std::string>{high});
  EXPECT_EQ(Get(catalog_->GetMedia(ids_[latin], 0)).item.path, latin);
  // Errors by path, bytewise: "/lib/2023/broken.jpg" < "/lib/a\\b/..." < "/lib/\xff/...".
  std::vector<ErrorRow> errors;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto got = Get(catalog_->ErrorsPage(0, 1, cursor));
    errors.insert(errors.end(), got.items.begin(), got.items.end());
    cursor = got.next_cursor;
    if (cursor.empty()) break;
  }
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].path, "/lib/2023/broken.jpg");
  EXPECT_EQ(errors[1].path, slash);
  EXPECT_EQ(errors[2].path, high);
  EXPECT_EQ(errors[2].error, "Corrupt: " + high);
}

// A generated library checked against a plain model of the filters: every filter and sort,
// paged at several sizes, gives exactly the model's order (no duplicate, no gap), also after
// files go, come back, move, and are analysed again. Scores repeat on purpose (ties).
class MDX_GALLERY(GalleryModelTest) : public ::testing::Test {
 protected:
  struct File {
    std::string path;
    int64_t id = 0;
    int64_t capture = 0;
    bool gone = false;
    std::string status = "pending";
    std::vector<std::pair<std::string, float>> dets;
  };

  void SetUp() override {
    catalog_ = Get(OpenTestCatalog(dir_));
    ASSERT_NE(catalog_, nullptr);
    model_ = Get(catalog_->RegisterModel({"centernet", "v1", "iou=0.4"}));
    run_ = Get(catalog_->BeginRun({model_, "cpu", "", {"/lib"}}));
    const char* folders[] = {"/lib/2024/trip/", "/lib/2024/trip/day2/", "/lib/2024/Trip_x/", "/lib/2023/home/",
                             "/lib/x/2024/trip/"};
    ScanChanges scan;
    for (int i = 0; i < 90; ++i) {
      File f;
      f.path = std::string(folders[i % 5]) + "f" + std::to_string(i) + ".jpg";
      scan.added.push_back(Stat(f.path, 10, 1));
      files_.push_back(f);
    }
    ASSERT_OK(catalog_->ApplyScan(scan));
    for (const auto& row : Get(catalog_->LoadFileIndex()))
      for (File& f : files_)
        if (f.path == row.path) f.id = row.id;
    const char* labels[] = {"dog", "cat", "person", "Car"};
    const float scores[] = {0.3f, 0.5f, 0.5f, 0.7f, 0.9f};
    std::vector<MediaResult> results;
    for (size_t i = 0; i < files_.size(); ++i) {
      File& f = files_[i];
      if (i % 11 == 10) continue;  // pending
      MediaResult r;
      r.media_id = f.id;
      r.content_hash = "h" + std::to_string(f.id);
      r.capture_time = i % 7 == 0 ? 0 : 1700000000 + static_cast<int64_t>(i % 13) * 1000;  // date ties too
      f.capture = r.capture_time;
      if (i % 17 == 3) {
        r.ok = false;
        r.error = "Corrupt: x";
        f.status = "failed";
        f.capture = 0;  // a failed file's metadata is not stored
      } else {
        f.status = "done";
        for (size_t k = 0; k < (i * 7) % 5; ++k) {
          const std::string label = labels[(i + k * 3) % 4];
          const float score = scores[(i * 3 + k) % 5];
          r.detections.push_back(Det(label, score));
          f.dets.emplace_back(label, score);
        }
      }
      results.push_back(r);
    }
    ASSERT_OK(catalog_->CommitBatch(model_, run_, results));
  }

  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  // What ListMedia must answer, from the model.
  std::vector<std::string> Expected(const MediaFilter& f) const {
    std::vector<std::pair<const File*, float>> hits;
    std::vector<std::string> all;
    for (const auto& g : f.label_groups)
      for (const auto& l : g) all.push_back(Lower(l));
    for (const File& file : files_) {
      if (file.gone) continue;
      auto has = [&](const std::vector<std::string>& labels) {
        for (const auto& [l, s] : file.dets)
          for (const auto& want : labels)
            if (Lower(l) == Lower(want) && s >= f.min_score) return true;
        return false;
      };
      bool ok = true;
      for (const auto& g : f.label_groups) ok = ok && has(g);
      if (f.label_groups.empty() && f.min_score > 0) {
        bool any = false;
        for (const auto& d : file.dets) any = any || d.second >= f.min_score;
        ok = ok && any;
      }
      if (!f.folder.empty()) ok = ok && file.path.find("/" + f.folder + "/") != std::string::npos;  // case as given
      if (f.after) ok = ok && file.capture >= f.after;
      if (f.before) ok = ok && file.capture < f.before && file.capture != 0;
      if (!f.status.empty()) ok = ok && file.status == f.status;
      if (!ok) continue;
      float best = 0;
      for (const auto& [l, s] : file.dets)
        if (s >= f.min_score && (all.empty() || std::count(all.begin(), all.end(), Lower(l)))) best = std::max(best, s);
      hits.emplace_back(&file, best);
    }
    std::sort(hits.begin(), hits.end(), [&](const auto& a, const auto& b) {
      if (f.sort == MediaSort::kScore) {
        if (a.second != b.second) return a.second > b.second;
      } else if (a.first->capture != b.first->capture) {
        return a.first->capture > b.first->capture;
      }
      return a.first->id > b.first->id;
    });
    std::vector<std::string> out;
    for (const auto& h : hits) out.push_back(h.first->path);
    return out;
  }

  std::vector<std::string> Paged(MediaFilter f, int limit) {
    f.limit = limit;
    std::vector<std::string> out;
    for (int page = 0; page < 200; ++page) {
      auto got = Get(catalog_->ListMedia(f));
      EXPECT_LE(static_cast<int>(got.items.size()), limit);
      for (const auto& i : got.items) out.push_back(i.path);
      if (got.next_cursor.empty()) break;
      f.cursor = got.next_cursor;
    }
    return out;
  }

  void CheckAll(const char* when) {
    std::vector<MediaFilter> filters;
    auto add = [&](std::vector<std::vector<std::string>> groups, float min, std::string folder = "",
                   std::string status = "") {
      for (MediaSort sort : {MediaSort::kDate, MediaSort::kScore}) {
        MediaFilter f;
        f.label_groups = groups;
        f.min_score = min;
        f.folder = folder;
        f.status = status;
        f.sort = sort;
        filters.push_back(f);
      }
    };
    add({}, 0);
    add({}, 0.6f);
    add({{"dog"}}, 0);
    add({{"DOG", "cat"}}, 0);
    add({{"dog", "car"}}, 0.5f);
    add({{"dog"}, {"cat"}}, 0);
    add({{"person"}, {"cat", "car"}}, 0.4f);
    add({}, 0, "2024/trip");
    add({{"cat"}}, 0, "2024/trip");
    add({}, 0, "trip/day2");
    add({}, 0, "2023/home", "done");
    add({}, 0, "", "pending");
    add({{"dog"}}, 0, "", "done");
    add({}, 0, "nowhere");
    MediaFilter dates;
    dates.after = 1700003000;
    dates.before = 1700009000;
    filters.push_back(dates);
    dates.sort = MediaSort::kScore;
    filters.push_back(dates);
    for (const MediaFilter& f : filters) {
      const auto want = Expected(f);
      for (int limit : {1, 2, 7, 100}) {
        ASSERT_EQ(Paged(f, limit), want) << when << ": filter " << f.label_groups.size() << " groups, min "
                                         << f.min_score << ", folder '" << f.folder << "', status '" << f.status
                                         << "', sort " << (f.sort == MediaSort::kScore ? "score" : "date") << ", limit "
                                         << limit;
      }
    }
  }

  TempDir dir_;
  std::unique_ptr<Catalog> catalog_;
  int64_t model_ = 0, run_ = 0;
  std::vector<File> files_;
};

TEST_F(MDX_GALLERY(GalleryModelTest), EveryFilterAndSortPagesExactly) { CheckAll("fresh"); }

#ifndef MEDIADEX_GALLERY_POSTGRES
// SQLite only: the same answers when every filter walks the files in date order instead of
// reading its few (PostgreSQL's planner makes that choice itself).
TEST_F(MDX_GALLERY(GalleryModelTest), WalkingInDateOrderAnswersTheSame) {
  sqlite::SetGatherMaxForTests(0);
  CheckAll("walking");
  sqlite::SetGatherMaxForTests(5000);
}
#else
// PostgreSQL only: the same answers when a score walk gives up after a few candidates and
// gathers the rest (and when it gives up at once).
TEST_F(MDX_GALLERY(GalleryModelTest), GatheringAfterAShortWalkAnswersTheSame) {
  for (int walk_max : {1, 3}) {
    postgres::SetScoreWalkMaxForTests(walk_max);
    CheckAll(walk_max == 1 ? "gathering after 1" : "gathering after 3");
  }
  postgres::SetScoreWalkMaxForTests(0);
}
#endif

TEST_F(MDX_GALLERY(GalleryModelTest), ScansAndNewResultsKeepTheListsExact) {
  // Gone files leave; one comes back; one moves to another folder; one is analysed again.
  ScanChanges scan;
  for (size_t i = 0; i < files_.size(); i += 9) {
    scan.gone.push_back(files_[i].id);
    files_[i].gone = true;
  }
  ASSERT_OK(catalog_->ApplyScan(scan));
  CheckAll("after gone");
  scan = {};
  scan.added.push_back(Stat(files_[9].path, 10, 1));  // back, unchanged: its results stay
  files_[9].gone = false;
  scan.moved.push_back({files_[18].id, "/lib/2024/trip/moved.jpg"});
  files_[18].path = "/lib/2024/trip/moved.jpg";
  files_[18].gone = false;
  ASSERT_OK(catalog_->ApplyScan(scan));
  MediaResult again;
  again.media_id = files_[1].id;
  again.content_hash = "new";
  again.capture_time = 1700005000;
  again.detections = {Det("cat", 0.95f), Det("cat", 0.2f), Det("dog", 0.5f)};
  files_[1].capture = again.capture_time;
  files_[1].status = "done";
  files_[1].dets = {{"cat", 0.95f}, {"cat", 0.2f}, {"dog", 0.5f}};
  ASSERT_OK(catalog_->CommitBatch(model_, run_, {again}));
  CheckAll("after return, move, re-analysis");
  // Label counts follow present files only.
  int64_t cats = 0;
  for (const File& f : files_) {
    bool cat = false;
    for (const auto& d : f.dets) cat = cat || d.first == "cat";
    cats += !f.gone && cat;
  }
  auto labels = Get(catalog_->Labels("ca", 10, 0));
  ASSERT_FALSE(labels.empty());
  for (const auto& l : labels)
    if (l.label == "cat") EXPECT_EQ(l.files, cats);
}

}  // namespace
}  // namespace mediadex::catalog
