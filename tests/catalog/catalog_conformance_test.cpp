// The behaviour every Catalog backend must show (catalog.h), as one suite parameterised over a
// factory. This file builds twice: into catalog_test (SQLite, label unit) and, with
// MEDIADEX_CONFORMANCE_POSTGRES, into catalog_pg_test (PostgreSQL, label pg, against the
// tests/pg fixture's server: each test its own fresh database).
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>

#include "catalog/catalog.h"
#include "catalog_test_util.h"
#include "testutil.h"
#ifdef MEDIADEX_CONFORMANCE_POSTGRES
#include "pg_test_util.h"
#endif

namespace mediadex::catalog {
namespace {

using testing::Det;
using testing::Failed;
using testing::Get;
using testing::Ok;
using testing::Stat;
using testing::TempDir;

struct Backend {
  std::string name;
  // Opens (or reopens) the catalog that lives in `dir`.
  std::function<Result<std::unique_ptr<Catalog>>(const std::string& dir)> open;
};

// gtest prints parameters in test names and failures; a name reads better than bytes.
void PrintTo(const Backend& backend, std::ostream* os) { *os << backend.name; }

#ifdef MEDIADEX_CONFORMANCE_POSTGRES
// A fresh database per test directory, its URL kept in the directory so Reopen() finds it.
Result<std::unique_ptr<Catalog>> OpenPostgres(const std::string& dir) {
  const std::string file = dir + "/pg_url";
  std::string url = testing::ReadBytes(file);
  if (url.empty()) {
    MDX_RETURN_IF_ERROR(pgtest::FreshDatabase("conformance", &url));
    testing::WriteBytes(file, url);
  }
  return OpenCatalog(url);
}

const Backend kBackends[] = {
    {"Postgres", OpenPostgres},
};
#else
const Backend kBackends[] = {
    {"Sqlite", [](const std::string& dir) { return OpenCatalog(dir + "/catalog.db"); }},
};
#endif

class CatalogConformanceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty()) << "cannot create a temp dir";
    Reopen();
  }
  void Reopen() {
    catalog_.reset();
    auto opened = GetParam().open(dir_.path());
    ASSERT_OK(opened);
    catalog_ = std::move(opened).value();
  }
  int64_t Model(const std::string& name = "centernet", const std::string& settings = "iou=0.4") {
    auto id = catalog_->RegisterModel({name, "v1", settings});
    EXPECT_OK(id);
    return id.ok() ? *id : 0;
  }
  // Adds files by path (size 100, mtime 1) and returns path -> media id.
  std::map<std::string, int64_t> Add(const std::vector<std::string>& paths,
                                     MediaKind kind = MediaKind::kImage) {
    ScanChanges changes;
    for (const auto& p : paths) changes.added.push_back(Stat(p, 100, 1, kind));
    EXPECT_OK(catalog_->ApplyScan(changes));
    return Ids();
  }
  std::map<std::string, int64_t> Ids() {
    std::map<std::string, int64_t> ids;
    auto index = catalog_->LoadFileIndex();
    EXPECT_OK(index);
    if (index.ok())
      for (const auto& row : *index) ids[row.path] = row.id;
    return ids;
  }
  std::vector<std::string> PendingPaths(int64_t model) {
    std::vector<std::string> paths;
    auto pending = catalog_->PendingFor(model, 0);
    EXPECT_OK(pending);
    if (pending.ok())
      for (const auto& row : *pending) paths.push_back(row.path);
    return paths;
  }
  std::vector<std::string> SearchPaths(SearchQuery q) {
    std::vector<std::string> paths;
    auto hits = catalog_->Search(q);
    EXPECT_OK(hits);
    if (hits.ok())
      for (const auto& h : *hits) paths.push_back(h.path);
    return paths;
  }

  TempDir dir_;
  std::unique_ptr<Catalog> catalog_;
};

using Paths = std::vector<std::string>;

TEST_P(CatalogConformanceTest, NewCatalogIsEmptyAndModelsPersistAcrossReopen) {
  auto summary = catalog_->Summary(0);
  ASSERT_OK(summary);
  EXPECT_EQ(summary->total, 0);
  EXPECT_EQ(summary->pending, 0);
  EXPECT_TRUE(summary->top_labels.empty());

  int64_t a = Model();
  EXPECT_GT(a, 0);
  EXPECT_EQ(Model(), a) << "RegisterModel must be idempotent";
  int64_t b = Model("centernet", "iou=0.5");
  EXPECT_NE(a, b) << "other settings are another model";
  Add({"/lib/a.jpg"});

  Reopen();
  EXPECT_EQ(Model(), a);
  EXPECT_EQ(Ids().size(), 1u);
}

TEST_P(CatalogConformanceTest, AddedFilesArePendingInPathOrder) {
  int64_t model = Model();
  Add({"/lib/c.jpg", "/lib/a.jpg", "/lib/b.png"});
  auto index = catalog_->LoadFileIndex();
  ASSERT_OK(index);
  ASSERT_EQ(index->size(), 3u);
  for (const auto& row : *index) {
    EXPECT_EQ(row.size, 100u);
    EXPECT_EQ(row.mtime_ns, 1);
    EXPECT_EQ(row.content_hash, "");
    EXPECT_FALSE(row.gone);
  }
  EXPECT_EQ(PendingPaths(model), (Paths{"/lib/a.jpg", "/lib/b.png", "/lib/c.jpg"}));
  auto limited = catalog_->PendingFor(model, 2);
  ASSERT_OK(limited);
  EXPECT_EQ(limited->size(), 2u);
}

TEST_P(CatalogConformanceTest, CommitBatchStoresResultsStatusAndMetadata) {
  int64_t model = Model();
  auto ids = Add({"/lib/a.jpg", "/lib/b.jpg", "/lib/broken.jpg"});
  ASSERT_OK(catalog_->CommitBatch(model, 0,
                                  {Ok(ids["/lib/a.jpg"], {Det("dog", 0.9f, 1.5f, 2.25f, 300.75f, 400.5f),
                                                          Det("cat", 0.4f)},
                                      "aaaa"),
                                   Ok(ids["/lib/b.jpg"], {}),
                                   Failed(ids["/lib/broken.jpg"], "truncated JPEG data")}));
  EXPECT_TRUE(PendingPaths(model).empty());

  auto summary = catalog_->Summary(model);
  ASSERT_OK(summary);
  EXPECT_EQ(summary->total, 3);
  EXPECT_EQ(summary->done, 2);
  EXPECT_EQ(summary->failed, 1);
  EXPECT_EQ(summary->pending, 0);

  auto errors = catalog_->Errors(model, 10);
  ASSERT_OK(errors);
  ASSERT_EQ(errors->size(), 1u);
  EXPECT_EQ((*errors)[0].path, "/lib/broken.jpg");
  EXPECT_EQ((*errors)[0].error, "truncated JPEG data");

  for (const auto& row : Get(catalog_->LoadFileIndex())) {
    if (row.path == "/lib/a.jpg") {
      EXPECT_EQ(row.content_hash, "aaaa");
    }
  }

  auto rows = catalog_->ExportAll(model);
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 2u) << "done files only, including those with no detections";
  const ExportRow& a = (*rows)[0].path == "/lib/a.jpg" ? (*rows)[0] : (*rows)[1];
  const ExportRow& b = (*rows)[0].path == "/lib/a.jpg" ? (*rows)[1] : (*rows)[0];
  EXPECT_EQ(a.width, 640);
  EXPECT_EQ(a.height, 480);
  ASSERT_EQ(a.detections.size(), 2u);
  EXPECT_EQ(a.detections[0].detection.label, "dog");
  EXPECT_FLOAT_EQ(a.detections[0].detection.score, 0.9f);
  EXPECT_FLOAT_EQ(a.detections[0].detection.box.x1, 1.5f);
  EXPECT_FLOAT_EQ(a.detections[0].detection.box.y1, 2.25f);
  EXPECT_FLOAT_EQ(a.detections[0].detection.box.x2, 300.75f);
  EXPECT_FLOAT_EQ(a.detections[0].detection.box.y2, 400.5f);
  EXPECT_EQ(a.detections[0].detection.class_id, 3);
  EXPECT_EQ(a.detections[0].time_s, -1);
  EXPECT_TRUE(b.detections.empty());
}

TEST_P(CatalogConformanceTest, CommitBatchReplacesThisModelsDetections) {
  int64_t model = Model();
  auto ids = Add({"/lib/a.jpg"});
  ASSERT_OK(catalog_->CommitBatch(model, 0, {Ok(ids["/lib/a.jpg"], {Det("dog", 0.9f), Det("dog", 0.8f)})}));
  ASSERT_OK(catalog_->CommitBatch(model, 0, {Ok(ids["/lib/a.jpg"], {Det("cat", 0.7f)})}));
  auto rows = catalog_->ExportAll(model);
  ASSERT_OK(rows);
  ASSERT_EQ(rows->size(), 1u);
  ASSERT_EQ((*rows)[0].detections.size(), 1u);
  EXPECT_EQ((*rows)[0].detections[0].detection.label, "cat");
  EXPECT_TRUE(SearchPaths({{"dog"}}).empty());
}

TEST_P(CatalogConformanceTest, CommitBatchIsAllOrNothing) {
  int64_t model = Model();
  auto ids = Add({"/lib/a.jpg", "/lib/b.jpg"});
  int64_t run = Get(catalog_->BeginRun({model, "cpu", "", {"/lib"}}));
  // The second result names a file the catalog does not have: the first must not land either.
  Status status = catalog_->CommitBatch(model, run, {Ok(ids["/lib/a.jpg"], {Det("dog", 0.9f)}, "aaaa"),
                                                     Ok(987654, {Det("cat", 0.9f)})});
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("987654"), std::string::npos) << status.ToString();
  // A model that does not exist fails on its first write (foreign key); nothing lands.
  EXPECT_FALSE(catalog_->CommitBatch(model + 1000, run, {Ok(ids["/lib/b.jpg"], {Det("dog", 0.9f)})}).ok());

  EXPECT_EQ(PendingPaths(model), (Paths{"/lib/a.jpg", "/lib/b.jpg"}));
  EXPECT_TRUE(SearchPaths({{"dog", "cat"}}).empty());
  auto rows = catalog_->ExportAll(model);
  ASSERT_OK(rows);
  EXPECT_TRUE(rows->empty());
  for (const auto& row : Get(catalog_->LoadFileIndex())) EXPECT_EQ(row.content_hash, "") << row.path;
  auto runs = catalog_->RecentRuns(1);
  ASSERT_OK(runs);
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].counts.done, 0);

  // And the catalog is still usable afterwards.
  ASSERT_OK(catalog_->CommitBatch(model, run, {Ok(ids["/lib/a.jpg"], {Det("dog", 0.9f)})}));
  EXPECT_EQ(PendingPaths(model), (Paths{"/lib/b.jpg"}));
}

TEST_P(CatalogConformanceTest, ApplyScanIsAllOrNothing) {
  auto ids = Add({"/lib/a.jpg"});
  ScanChanges changes;
  changes.added.push_back(Stat("/lib/new.jpg", 5, 5));
  changes.gone.push_back(ids["/lib/a.jpg"]);
  changes.changed.push_back({424242, Stat("/lib/x.jpg", 1, 1)});
  Status status = catalog_->ApplyScan(changes);
  EXPECT_EQ(status.code(), StatusCode::kNotFound) << status.ToString();
  EXPECT_EQ(Ids(), (std::map<std::string, int64_t>{{"/lib/a.jpg", ids["/lib/a.jpg"]}}));
}

TEST_P(CatalogConformanceTest, ChangedFileIsPendingAgain) {
  int64_t model = Model();
  auto ids = Add({"/lib/a.jpg", "/lib/b.jpg"});
  ASSERT_OK(catalog_->CommitBatch(model, 0, {Ok(ids["/lib/a.jpg"], {Det("dog", 0.9f)}, "aaaa"),
                                             Failed(ids["/lib/b.jpg"], "zero bytes")}));
  ASSERT_TRUE(PendingPaths(model).empty());

  ScanChanges changes;
  changes.changed.push_back({ids["/lib/a.jpg"], Stat("/lib/a.jpg", 200, 2)});
  changes.changed.push_back({ids["/lib/b.jpg"], Stat("/lib/b.jpg", 300, 3)});
  ASSERT_OK(catalog_->ApplyScan(changes));
  EXPECT_EQ(PendingPaths(model), (Paths{"/lib/a.jpg", "/lib/b.jpg"})) << "a failure is retried when the file changes";
  auto summary = catalog_->Summary(model);
  ASSERT_OK(summary);
  EXPECT_EQ(summary->pending, 2);
  EXPECT_EQ(summary->done, 0);
  EXPECT_EQ(summary->failed, 0);
  auto errors = catalog_->Errors(model, 10);
  ASSERT_OK(errors);
  EXPECT_TRUE(errors->empty());
  for (const auto& row : Get(catalog_->LoadFileIndex())) {
    EXPECT_EQ(row.id, ids[row.path]) << "a changed file keeps its id";
    EXPECT_EQ(row.content_hash, "") << "old hash must not describe new bytes";
  }
  auto moved_candidates = catalog_->FindGoneByHash("aaaa");
  ASSERT_OK(moved_candidates);
  EXPECT_TRUE(moved_candidates->empty());

  ASSERT_OK(catalog_->CommitBatch(model, 0, {Ok(ids["/lib/a.jpg"], {Det("cat", 0.6f)})}));
  EXPECT_EQ(PendingPaths(model), (Paths{"/lib/b.jpg"}));
}

TEST_P(CatalogConformanceTest, GoneFileIsExcludedAndMovedFileKeepsItsResults) {
  int64_t model = Model();
  auto ids = Add({"/lib/a.jpg", "/lib/b.jpg"});
  const int64_t a = ids["/lib/a.jpg"];
  ASSERT_OK(catalog_->CommitBatch(model, 0, {Ok(a, {Det("dog", 0.9f)}, "aaaa"), Ok(ids["/lib/b.jpg"], {})}));

  ScanChanges gone;
  gone.gone.push_back(a);
  ASSERT_OK(catalog_->ApplyScan(gone));
  EXPECT_EQ(Ids().count("/lib/a.jpg"), 0u);
  EXPECT_TRUE(SearchPaths({{"dog"}}).empty()) << "gone files are not search results";
  auto summary = catalog_->Summary(model);
  ASSERT_OK(summary);
  EXPECT_EQ(summary->total, 1);
  EXPECT_EQ(summary->gone, 1);
  EXPECT_EQ(summary->done, 1);
  EXPECT_EQ(catalog_->ExportAll(model)->size(), 1u);
  EXPECT_TRUE(PendingPaths(model).empty());

  auto found = catalog_->FindGoneByHash("aaaa");
  ASSERT_OK(found);
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, a);
  EXPECT_TRUE((*found)[0].gone);
  EXPECT_TRUE(catalog_->FindGoneByHash("")->empty());

  ScanChanges moved;
  moved.moved.push_back({a, "/lib/renamed/a.jpg"});
  ASSERT_OK(catalog_->ApplyScan(moved));
  EXPECT_EQ(Ids()["/lib/renamed/a.jpg"], a);
  EXPECT_TRUE(PendingPaths(model).empty()) << "a moved file is not analysed again";
  EXPECT_EQ(SearchPaths({{"dog"}}), (Paths{"/lib/renamed/a.jpg"}));
  EXPECT_TRUE(catalog_->FindGoneByHash("aaaa")->empty());
}

TEST_P(CatalogConformanceTest, MoveOntoAPathThatHasARowReplacesThatRow) {
  int64_t model = Model();
  auto ids = Add({"/lib/a.jpg", "/lib/b.jpg"});
  const int64_t a = ids["/lib/a.jpg"], b = ids["/lib/b.jpg"];
  ASSERT_OK(catalog_->CommitBatch(model, 0, {Ok(a, {Det("dog", 0.9f)}, "aaaa"), Ok(b, {Det("cat", 0.9f)}, "bbbb")}));
  // `mv a.jpg b.jpg`: a is gone, b's path now holds a's bytes.
  ScanChanges changes;
  changes.gone.push_back(a);
  changes.moved.push_back({a, "/lib/b.jpg"});
  ASSERT_OK(catalog_->ApplyScan(changes));
  auto now = Ids();
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now["/lib/b.jpg"], a);
  EXPECT_EQ(SearchPaths({{"dog"}}), (Paths{"/lib/b.jpg"}));
  EXPECT_TRUE(SearchPaths({{"cat"}}).empty()) << "the replaced row's results went with it";
  auto summary = catalog_->Summary(model);
  ASSERT_OK(summary);
  EXPECT_EQ(summary->total, 1);
  EXPECT_EQ(summary->gone, 0);
}

TEST_P(CatalogConformanceTest, ReappearingPathReusesItsRow) {
  int64_t model = Model();
  auto ids = Add({"/lib/a.jpg", "/lib/b.jpg"});
  ASSERT_OK(catalog_->CommitBatch(model, 0, {Ok(ids["/lib/a.jpg"], {Det("dog", 0.9f)}),
                                             Ok(ids["/lib/b.jpg"], {Det("dog", 0.8f)})}));
  ScanChanges gone;
  gone.gone = {ids["/lib/a.jpg"], ids["/lib/b.jpg"]};
  ASSERT_OK(catalog_->ApplyScan(gone));
  // a comes back untouched (e.g. a remounted disk), b comes back with other bytes.
  ScanChanges back;
  back.added = {Stat("/lib/a.jpg", 100, 1), Stat("/lib/b.jpg", 999, 7)};
  ASSERT_OK(catalog_->ApplyScan(back));
  EXPECT_EQ(Ids(), ids);
  EXPECT_EQ(PendingPaths(model), (Paths{"/lib/b.jpg"}));
}

TEST_P(CatalogConformanceTest, ResultsArePerModel) {
  int64_t m1 = Model("centernet");
  int64_t m2 = Model("yolo");
  auto ids = Add({"/lib/a.jpg", "/lib/b.jpg"});
  ASSERT_OK(catalog_->CommitBatch(m1, 0, {Ok(ids["/lib/a.jpg"], {Det("dog", 0.9f)}),
                                          Ok(ids["/lib/b.jpg"], {Det("cat", 0.5f)})}));
  EXPECT_TRUE(PendingPaths(m1).empty());
  EXPECT_EQ(PendingPaths(m2), (Paths{"/lib/a.jpg", "/lib/b.jpg"}));
  ASSERT_OK(catalog_->CommitBatch(m2, 0, {Ok(ids["/lib/a.jpg"], {Det("person", 0.7f)})}));
  EXPECT_EQ(PendingPaths(m2), (Paths{"/lib/b.jpg"}));

  // Both models' results are kept.
  EXPECT_EQ(SearchPaths({{"dog"}}), (Paths{"/lib/a.jpg"}));
  EXPECT_EQ(SearchPaths({{"person"}}), (Paths{"/lib/a.jpg"}));
  SearchQuery only_m2{{"dog", "person", "cat"}};
  only_m2.model_id = m2;
  auto hits = catalog_->Search(only_m2);
  ASSERT_OK(hits);
  ASSERT_EQ(hits->size(), 1u);
  ASSERT_EQ((*hits)[0].matches.size(), 1u);
  EXPECT_EQ((*hits)[0].matches[0].detection.label, "person");

  auto e1 = catalog_->ExportAll(m1);
  auto e2 = catalog_->ExportAll(m2);
  ASSERT_OK(e1);
  ASSERT_OK(e2);
  EXPECT_EQ(e1->size(), 2u);
  ASSERT_EQ(e2->size(), 1u);
  EXPECT_EQ((*e2)[0].detections[0].detection.label, "person");
  auto s2 = catalog_->Summary(m2);
  ASSERT_OK(s2);
  EXPECT_EQ(s2->done, 1);
  EXPECT_EQ(s2->pending, 1);
}

TEST_P(CatalogConformanceTest, SearchAnyAllMinScoreAndLimit) {
  int64_t model = Model();
  auto ids = Add({"/lib/1.jpg", "/lib/2.jpg", "/lib/3.jpg", "/lib/4.jpg"});
  ASSERT_OK(catalog_->CommitBatch(model, 0, {Ok(ids["/lib/1.jpg"], {Det("dog", 0.9f), Det("cat", 0.5f)}),
                                             Ok(ids["/lib/2.jpg"], {Det("dog", 0.6f), Det("dog", 0.3f)}),
                                             Ok(ids["/lib/3.jpg"], {Det("cat", 0.8f)}),
                                             Ok(ids["/lib/4.jpg"], {Det("person", 0.95f)})}));
  EXPECT_EQ(SearchPaths({{"dog", "cat"}}), (Paths{"/lib/1.jpg", "/lib/3.jpg", "/lib/2.jpg"}));
  EXPECT_EQ(SearchPaths({{"dog", "cat"}, true}), (Paths{"/lib/1.jpg"}));
  EXPECT_EQ(SearchPaths({{"dog", "cat"}, false, 0.7f}), (Paths{"/lib/1.jpg", "/lib/3.jpg"}));
  EXPECT_TRUE(SearchPaths({{"dog", "cat"}, true, 0.7f}).empty()) << "--all needs every label above the minimum";
  EXPECT_EQ(SearchPaths({{"dog", "cat"}, false, 0.0f, 1}), (Paths{"/lib/1.jpg"}));
  EXPECT_EQ(SearchPaths({{"DOG", "dog"}, true}), (Paths{"/lib/1.jpg", "/lib/2.jpg"}))
      << "labels are case-insensitive and duplicates count once";
  EXPECT_TRUE(SearchPaths({{"giraffe"}}).empty());

  auto hits = catalog_->Search({{"dog", "cat"}, false, 0.4f});
  ASSERT_OK(hits);
  ASSERT_EQ(hits->size(), 3u);
  const SearchHit& first = (*hits)[0];
  EXPECT_EQ(first.media_id, ids["/lib/1.jpg"]);
  EXPECT_FLOAT_EQ(first.best_score, 0.9f);
  EXPECT_EQ(first.width, 640);
  EXPECT_EQ(first.kind, MediaKind::kImage);
  ASSERT_EQ(first.matches.size(), 2u);
  EXPECT_EQ(first.matches[0].detection.label, "dog") << "a photo's matches come best first";
  const SearchHit& third = (*hits)[2];
  ASSERT_EQ(third.matches.size(), 1u) << "the 0.3 dog is under --min-score";

  auto empty = catalog_->Search({});
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
}

TEST_P(CatalogConformanceTest, VideoHitsCarryTheirMoments) {
  int64_t model = Model();
  auto ids = Add({"/lib/clip.mp4"}, MediaKind::kVideo);
  MediaResult r = Ok(ids["/lib/clip.mp4"], {Det("dog", 0.7f, 0, 0, 10, 10, 4.0), Det("dog", 0.9f, 0, 0, 10, 10, 0.0),
                                            Det("cat", 0.8f, 0, 0, 10, 10, 2.0), Det("dog", 0.6f, 0, 0, 10, 10, 2.0)});
  r.duration_s = 6.5;
  ASSERT_OK(catalog_->CommitBatch(model, 0, {r}));
  auto hits = catalog_->Search({{"dog"}});
  ASSERT_OK(hits);
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].kind, MediaKind::kVideo);
  EXPECT_FLOAT_EQ((*hits)[0].best_score, 0.9f);
  std::vector<double> times;
  for (const auto& m : (*hits)[0].matches) times.push_back(m.time_s);
  EXPECT_EQ(times, (std::vector<double>{0.0, 2.0, 4.0}));
}

TEST_P(CatalogConformanceTest, SummaryCountsFilesPerLabel) {
  int64_t model = Model();
  auto ids = Add({"/lib/1.jpg", "/lib/2.jpg", "/lib/3.jpg", "/lib/4.jpg", "/lib/5.jpg"});
  ASSERT_OK(catalog_->CommitBatch(model, 0, {Ok(ids["/lib/1.jpg"], {Det("dog", 0.9f), Det("dog", 0.8f), Det("cat", 0.5f)}),
                                             Ok(ids["/lib/2.jpg"], {Det("dog", 0.6f)}),
                                             Failed(ids["/lib/3.jpg"], "unsupported format")}));
  ScanChanges gone;
  gone.gone.push_back(ids["/lib/2.jpg"]);
  ASSERT_OK(catalog_->ApplyScan(gone));
  auto s = catalog_->Summary(0);  // 0 = the latest model
  ASSERT_OK(s);
  EXPECT_EQ(s->total, 4);
  EXPECT_EQ(s->done, 1);
  EXPECT_EQ(s->failed, 1);
  EXPECT_EQ(s->pending, 2);
  EXPECT_EQ(s->gone, 1);
  using Labels = std::vector<std::pair<std::string, int64_t>>;
  EXPECT_EQ(s->top_labels, (Labels{{"cat", 1}, {"dog", 1}})) << "files per label, present files only";
}

TEST_P(CatalogConformanceTest, RunsRecordDeviceCountsAndTimes) {
  int64_t model = Model();
  auto ids = Add({"/lib/a.jpg", "/lib/b.jpg"});
  auto run1 = catalog_->BeginRun({model, "cpu", "batch=64", {"/lib", "/other"}});
  ASSERT_OK(run1);
  ASSERT_OK(catalog_->CommitBatch(model, *run1, {Ok(ids["/lib/a.jpg"], {}), Failed(ids["/lib/b.jpg"], "bad")}));
  auto live = catalog_->RecentRuns(5);
  ASSERT_OK(live);
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].finished_at, 0) << "still running";
  EXPECT_EQ((*live)[0].counts.done, 1) << "counts advance with each batch";
  EXPECT_EQ((*live)[0].counts.failed, 1);
  ASSERT_OK(catalog_->FinishRun(*run1, {1, 1, 0}));
  auto run2 = catalog_->BeginRun({model, "cuda:0", "", {"/lib"}});
  ASSERT_OK(run2);
  ASSERT_OK(catalog_->FinishRun(*run2, {0, 0, 2}));

  auto runs = catalog_->RecentRuns(5);
  ASSERT_OK(runs);
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].id, *run2) << "newest first";
  EXPECT_EQ((*runs)[0].device, "cuda:0");
  EXPECT_EQ((*runs)[0].model, "centernet@v1");
  EXPECT_EQ((*runs)[0].counts.skipped, 2);
  EXPECT_GT((*runs)[0].started_at, 1600000000);
  EXPECT_GE((*runs)[0].finished_at, (*runs)[0].started_at);
  EXPECT_EQ((*runs)[1].counts.done, 1);
  EXPECT_EQ(catalog_->RecentRuns(1)->size(), 1u);

  EXPECT_EQ(catalog_->FinishRun(99999, {}).code(), StatusCode::kNotFound);
  EXPECT_FALSE(catalog_->BeginRun({model + 100, "cpu", "", {}}).ok()) << "a run needs a registered model";
}

TEST_P(CatalogConformanceTest, BadIdsAreErrorsNotCrashes) {
  EXPECT_EQ(catalog_->PendingFor(0, 10).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(catalog_->CommitBatch(0, 0, {}).code(), StatusCode::kInvalidArgument);
  ScanChanges moved;
  moved.moved.push_back({31337, "/lib/x.jpg"});
  EXPECT_EQ(catalog_->ApplyScan(moved).code(), StatusCode::kNotFound);
  EXPECT_EQ(catalog_->RegisterModel({"", "", ""}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_OK(catalog_->CommitBatch(Model(), 0, {}));  // an empty batch is fine
}

INSTANTIATE_TEST_SUITE_P(Backends, CatalogConformanceTest, ::testing::ValuesIn(kBackends),
                         [](const ::testing::TestParamInfo<Backend>& info) { return info.param.name; });

}  // namespace
}  // namespace mediadex::catalog
