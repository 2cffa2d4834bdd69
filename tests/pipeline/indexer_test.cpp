// The indexer on real photos, a real SQLite catalog and the real CenterNet model (CPU).
#include "pipeline/indexer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "catalog/catalog.h"
#include "engine/device.h"
#include "library.h"
#include "model/detector.h"
#include "testutil.h"

namespace mediadex::pipeline {
namespace {
namespace fs = std::filesystem;
using testing::TempLibrary;

const model::Detector& SharedDetector() {
  static std::unique_ptr<model::Detector> detector = [] {
    engine::SetCpuThreads(0);
    auto cpu = engine::PickDevice({"cpu", false});
    auto d = model::LoadDetector({testing::CenternetModelPath()}, cpu->device);
    if (!d.ok()) {
      ADD_FAILURE() << "the bundled model must load (run scripts/fetch-model.sh): " << d.status().ToString();
      std::abort();
    }
    return std::move(d).value();
  }();
  return *detector;
}

IndexOptions Options(const TempLibrary& lib) {
  IndexOptions o;
  o.roots = {lib.photos().string()};
  o.scan.extensions = {"jpg", "jpeg", "png"};
  o.decode.target_width = SharedDetector().info().decode_width;
  o.decode.target_height = SharedDetector().info().decode_height;
  o.settings = "test";
  o.batch_size = 4;
  o.concurrency = 2;
  return o;
}

// path -> sorted "label score" strings, for comparing runs.
std::map<std::string, std::vector<std::string>> Results(catalog::Catalog& c) {
  std::map<std::string, std::vector<std::string>> out;
  auto rows = c.ExportAll(0);
  EXPECT_OK(rows);
  for (const auto& row : *rows) {
    auto& v = out[fs::path(row.path).filename().string()];
    for (const auto& d : row.detections) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "%s %.3f %.0f,%.0f", d.detection.label.c_str(), d.detection.score,
                    d.detection.box.x1, d.detection.box.y1);
      v.push_back(buf);
    }
    std::sort(v.begin(), v.end());
  }
  return out;
}

class IndexerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lib_.AddPhoto("skimage-chelsea.png", "pets/chelsea.png");
    lib_.AddPhoto("skimage-coffee.png", "kitchen/coffee.png");
    lib_.AddPhoto("human-samples.jpg", "people/2024/summer/crowd.jpg");
    lib_.AddPhoto("human-samples.jpg", "people/copy-of-crowd.jpg");  // duplicate content
    lib_.AddPhoto("sklearn-china.jpg", "travel/china.jpg");
    lib_.AddPhoto("skimage-rocket.jpg", ".thumbnails/rocket.jpg");  // hidden: skipped
    lib_.AddBytes("broken/empty.jpg", "");
    lib_.AddBytes("broken/notes.jpg", "these are not pixels\n");
    const std::string crowd = lib_.ReadPhoto("human-samples.jpg");
    lib_.AddBytes("broken/truncated.jpg", crowd.substr(0, crowd.size() / 2));
    lib_.AddBytes("README.txt", "not indexed");
  }

  std::unique_ptr<catalog::Catalog> Open() {
    auto c = catalog::OpenCatalog(lib_.catalog());
    EXPECT_OK(c);
    return c.ok() ? std::move(c).value() : nullptr;
  }

  TempLibrary lib_{"indexer"};
};

// --decode gpu needs nvJPEG beside a CUDA detector; here there is none, and the run says so.
TEST_F(IndexerTest, DecodeGpuWithoutACudaDetectorIsAnError) {
  auto c = Open();
  IndexOptions o = Options(lib_);
  o.jpeg_decode = JpegDecode::kGpu;
  auto s = RunIndex(SharedDetector(), *c, o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("--decode gpu"), std::string::npos) << s.status().ToString();
  EXPECT_FALSE(ParseJpegDecode("nvjpeg").ok());
}

TEST_F(IndexerTest, IndexesANestedLibraryAndRecordsEveryBrokenFile) {
  auto c = Open();
  auto s = RunIndex(SharedDetector(), *c, Options(lib_));
  ASSERT_OK(s);
  EXPECT_EQ(s->scanned, 8);  // 5 photos + 3 broken; hidden folder and README skipped
  EXPECT_EQ(s->added, 8);
  EXPECT_EQ(s->done, 5);
  EXPECT_EQ(s->failed, 3);

  auto errors = c->Errors(0, 100);
  ASSERT_OK(errors);
  ASSERT_EQ(errors->size(), 3u);
  for (const auto& e : *errors) {
    EXPECT_NE(e.path.find("/broken/"), std::string::npos);
    EXPECT_FALSE(e.error.empty()) << e.path;
  }
  auto summary = c->Summary(0);
  ASSERT_OK(summary);
  EXPECT_EQ(summary->done, 5);
  EXPECT_EQ(summary->failed, 3);
  EXPECT_EQ(summary->pending, 0);

  catalog::SearchQuery q;
  q.labels = {"person"};
  auto hits = c->Search(q);
  ASSERT_OK(hits);
  std::set<std::string> files;
  for (const auto& h : *hits) files.insert(fs::path(h.path).filename().string());
  EXPECT_EQ(files, (std::set<std::string>{"crowd.jpg", "copy-of-crowd.jpg"}));
  // The duplicate has the same content, hence the same detections.
  auto results = Results(*c);
  EXPECT_EQ(results["crowd.jpg"], results["copy-of-crowd.jpg"]);
  EXPECT_FALSE(results["crowd.jpg"].empty());
}

TEST_F(IndexerTest, SecondRunOverAnUnchangedLibraryDoesNoInference) {
  auto c = Open();
  ASSERT_OK(RunIndex(SharedDetector(), *c, Options(lib_)));
  const auto before = Results(*c);
  auto again = RunIndex(SharedDetector(), *c, Options(lib_));
  ASSERT_OK(again);
  EXPECT_EQ(again->unchanged, 8);
  EXPECT_EQ(again->done + again->failed, 0) << "nothing may be analysed twice";
  EXPECT_EQ(Results(*c), before);
}

TEST_F(IndexerTest, ChangedMovedAndDeletedFilesAreHandled) {
  auto c = Open();
  ASSERT_OK(RunIndex(SharedDetector(), *c, Options(lib_)));
  const auto before = Results(*c);

  // Changed: new content at the same path.
  lib_.AddPhoto("skimage-astronaut.png", "kitchen/coffee.png");
  // Moved: same bytes, new folder and name.
  fs::create_directories(lib_.photos() / "archive");
  fs::rename(lib_.photos() / "travel/china.jpg", lib_.photos() / "archive/temple.jpg");
  // Deleted.
  fs::remove(lib_.photos() / "pets/chelsea.png");

  auto s = RunIndex(SharedDetector(), *c, Options(lib_));
  ASSERT_OK(s);
  EXPECT_EQ(s->changed, 1);
  EXPECT_EQ(s->moved, 1);
  EXPECT_EQ(s->gone, 1);
  EXPECT_EQ(s->done, 1) << "only the changed file is analysed again";

  const auto after = Results(*c);
  EXPECT_EQ(after.count("china.jpg"), 0u);
  ASSERT_EQ(after.count("temple.jpg"), 1u);
  EXPECT_EQ(after.at("temple.jpg"), before.at("china.jpg")) << "a moved file keeps its results";
  EXPECT_NE(after.at("coffee.png"), before.at("coffee.png"));
  EXPECT_EQ(after.count("chelsea.png"), 0u) << "gone files leave the results";
  auto summary = c->Summary(0);
  ASSERT_OK(summary);
  EXPECT_EQ(summary->gone, 1);
}

TEST_F(IndexerTest, OtherSettingsKeepTheirOwnResults) {
  auto c = Open();
  ASSERT_OK(RunIndex(SharedDetector(), *c, Options(lib_)));
  IndexOptions strict = Options(lib_);
  strict.detect.score_min = 0.45f;
  strict.settings = "strict";
  auto s = RunIndex(SharedDetector(), *c, strict);
  ASSERT_OK(s);
  EXPECT_EQ(s->done + s->failed, 8) << "new settings: every file is pending for them";
  auto again = RunIndex(SharedDetector(), *c, Options(lib_));
  ASSERT_OK(again);
  EXPECT_EQ(again->done + again->failed, 0) << "the first settings' results are still there";
}

TEST_F(IndexerTest, InterruptedRunResumesWithoutDuplicates) {
  // Reference: one uninterrupted run in another catalog.
  std::map<std::string, std::vector<std::string>> reference;
  {
    auto ref = catalog::OpenCatalog(lib_.catalog("reference.db"));
    ASSERT_OK(ref);
    ASSERT_OK(RunIndex(SharedDetector(), **ref, Options(lib_)));
    reference = Results(**ref);
  }
  auto c = Open();
  // Cancels once two files are committed, as Ctrl-C or the server's cancel button would.
  struct CancelAfterTwo : IndexObserver {
    CancelToken cancel;
    void OnProgress(const IndexProgress& p) override {
      if (p.done >= 2) cancel.Cancel();
    }
  } observer;
  IndexOptions o = Options(lib_);
  o.batch_size = 1;
  o.cancel = &observer.cancel;
  o.observer = &observer;
  auto first = RunIndex(SharedDetector(), *c, o);
  ASSERT_OK(first);
  EXPECT_TRUE(first->cancelled);
  EXPECT_LT(first->done + first->failed, 8);
  auto rest = RunIndex(SharedDetector(), *c, Options(lib_));
  ASSERT_OK(rest);
  EXPECT_EQ(first->done + first->failed + rest->done + rest->failed, 8) << "every file exactly once";
  EXPECT_EQ(Results(*c), reference);
}

TEST_F(IndexerTest, SeveralWorkersGiveTheSameResultsAndVideosStayWhole) {
  // Videos: their frames spread over the workers, yet each becomes one result with moments.
  std::filesystem::create_directories(lib_.photos() / "clips");
  std::filesystem::copy_file(testing::TestData("clip.mp4"), lib_.photos() / "clips/a.mp4");
  std::filesystem::copy_file(testing::TestData("clip.webm"), lib_.photos() / "clips/b.webm");
  std::filesystem::copy_file(testing::TestData("truncated.mp4"), lib_.photos() / "clips/cut.mp4");
  IndexOptions o = Options(lib_);
  o.scan.extensions = {"jpg", "png", "mp4", "webm"};
  o.video_interval_s = 1.0;
  o.batch_size = 2;

  auto one = catalog::OpenCatalog(lib_.catalog("one.db"));
  ASSERT_OK(one);
  auto single = RunIndex(SharedDetector(), **one, o);
  ASSERT_OK(single);
  auto three = catalog::OpenCatalog(lib_.catalog("three.db"));
  ASSERT_OK(three);
  const model::Detector* d = &SharedDetector();
  auto parallel = RunIndex(std::vector<const model::Detector*>{d, d, d}, **three, o);
  ASSERT_OK(parallel);

  EXPECT_EQ(single->done, parallel->done);
  EXPECT_EQ(single->failed, parallel->failed);
  EXPECT_EQ(single->video_frames, parallel->video_frames);
  EXPECT_GE(parallel->video_frames, 8) << "two 5 s clips at one frame a second";
  EXPECT_EQ(Results(**one), Results(**three));
  auto errors = (*three)->Errors(0, 100);
  ASSERT_OK(errors);
  bool cut_reported = false;
  for (const auto& e : *errors) cut_reported |= e.path.find("cut.mp4") != std::string::npos;
  EXPECT_TRUE(cut_reported) << "a truncated video is one recorded failure";
}

TEST_F(IndexerTest, MemoryLimitBelowTheRuntimeIsAClearError) {
  auto c = Open();
  IndexOptions o = Options(lib_);
  o.max_memory = 16ull << 20;
  auto s = RunIndex(SharedDetector(), *c, o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("--max-memory"), std::string::npos);
}

}  // namespace
}  // namespace mediadex::pipeline
