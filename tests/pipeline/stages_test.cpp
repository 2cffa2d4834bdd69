// The index run's failure paths, driven on cue: a catalog whose commit fails at batch N, a
// detector that runs out of memory at batch N, files that can never fit the memory budget, a
// cancellation at a chosen moment. Real photos, real decoders and a real SQLite catalog; only
// the detector (fast and told when to fail) and the commit failure are stand-ins. Each test
// asserts what a user sees: nothing lost, nothing duplicated, the right error recorded.
#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>

#include "catalog/catalog.h"
#include "core/memory.h"
#include "library.h"
#include "model/detector.h"
#include "pipeline/indexer.h"
#include "testutil.h"

namespace mediadex::pipeline {
namespace {
namespace fs = std::filesystem;
using testing::TempLibrary;

// Finds one "thing" per image, scored by its mean brightness: deterministic, fast, and
// different for different photos. Runs out of memory on cue: on its `oom_at`-th call with more
// than one image (then the pipeline must halve the batch and go on).
class FakeDetector : public model::Detector {
 public:
  explicit FakeDetector(int oom_at = 0) : oom_at_(oom_at) {
    info_.name = "fake";
    info_.version = "1";
    info_.input_width = info_.input_height = 64;
    info_.decode_width = info_.decode_height = 128;
    info_.labels = {"thing"};
    device_.kind = engine::DeviceKind::kCpu;
    device_.name = "cpu";
  }
  const model::ModelInfo& info() const override { return info_; }
  const engine::DeviceInfo& device() const override { return device_; }
  Result<std::vector<std::vector<Detection>>> Detect(const std::vector<const RgbImage*>& batch,
                                                     const model::DetectOptions&) const override {
    const int call = ++calls_;
    max_batch_seen_ = std::max<int>(max_batch_seen_, static_cast<int>(batch.size()));
    if (call >= oom_at_ && oom_at_ > 0 && batch.size() > 1) return OutOfMemory("fake: out of memory on cue");
    std::vector<std::vector<Detection>> out;
    for (const RgbImage* image : batch) {
      uint64_t sum = 0;
      for (uint8_t v : image->pixels) sum += v;
      Detection d;
      d.label = "thing";
      d.score = image->pixels.empty() ? 0 : static_cast<float>(sum) / image->pixels.size() / 255.0f;
      d.box = {0, 0, static_cast<float>(image->full_width), static_cast<float>(image->full_height)};
      out.push_back({d});
    }
    return out;
  }
  int max_batch_seen() const { return max_batch_seen_; }

 private:
  model::ModelInfo info_;
  engine::DeviceInfo device_;
  const int oom_at_;
  mutable std::atomic<int> calls_{0};
  mutable std::atomic<int> max_batch_seen_{0};
};

// A real SQLite catalog whose `fail_at`-th CommitBatch fails (as a full disk would) without
// writing anything.
class FailingCatalog : public catalog::Catalog {
 public:
  FailingCatalog(std::unique_ptr<catalog::Catalog> real, int fail_at) : real_(std::move(real)), fail_at_(fail_at) {}
  Result<int64_t> RegisterModel(const catalog::ModelKey& m) override { return real_->RegisterModel(m); }
  Result<int64_t> BeginRun(const catalog::RunInfo& r) override { return real_->BeginRun(r); }
  Status FinishRun(int64_t id, const catalog::RunCounts& c) override { return real_->FinishRun(id, c); }
  Result<std::vector<catalog::MediaRow>> LoadFileIndex() override { return real_->LoadFileIndex(); }
  Result<std::vector<catalog::MediaRow>> FindGoneByHash(const std::string& h) override {
    return real_->FindGoneByHash(h);
  }
  Status ApplyScan(const catalog::ScanChanges& c) override { return real_->ApplyScan(c); }
  Result<std::vector<catalog::MediaRow>> PendingFor(int64_t m, int64_t l) override { return real_->PendingFor(m, l); }
  Status CommitBatch(int64_t model_id, int64_t run_id, const std::vector<catalog::MediaResult>& results) override {
    if (++commits_ == fail_at_) return IOError("fake: disk full at commit " + std::to_string(fail_at_));
    return real_->CommitBatch(model_id, run_id, results);
  }
  Result<std::vector<catalog::SearchHit>> Search(const catalog::SearchQuery& q) override { return real_->Search(q); }
  Result<catalog::StatusSummary> Summary(int64_t m) override { return real_->Summary(m); }
  Result<std::vector<catalog::RunRow>> RecentRuns(int l) override { return real_->RecentRuns(l); }
  Result<std::vector<catalog::ErrorRow>> Errors(int64_t m, int l) override { return real_->Errors(m, l); }
  Result<std::vector<catalog::ExportRow>> ExportAll(int64_t m) override { return real_->ExportAll(m); }

 private:
  std::unique_ptr<catalog::Catalog> real_;
  const int fail_at_;
  int commits_ = 0;  // the writer thread only
};

// Records what the observer is told.
struct Recorder : IndexObserver {
  std::mutex mutex;
  ScanCounts scanned;
  std::vector<IndexProgress> progress;
  std::vector<FileFailure> failures;
  bool finished = false;
  CancelToken cancel;
  int64_t cancel_after = -1;  // files committed
  void OnScanned(const ScanCounts& c) override { scanned = c; }
  void OnProgress(const IndexProgress& p) override {
    std::lock_guard<std::mutex> lock(mutex);
    progress.push_back(p);
    if (cancel_after >= 0 && p.done >= cancel_after) cancel.Cancel();
  }
  void OnFailure(const FileFailure& f) override {
    std::lock_guard<std::mutex> lock(mutex);
    failures.push_back(f);
  }
  void OnFinished(const IndexSummary&) override { finished = true; }
};

class StagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Twelve photos (four real ones, each three times under other names) and two broken files.
    const char* photos[] = {"skimage-chelsea.png", "skimage-coffee.png", "human-samples.jpg", "sklearn-china.jpg"};
    for (int copy = 0; copy < 3; ++copy) {
      for (const char* photo : photos) lib_.AddPhoto(photo, "set" + std::to_string(copy) + "/" + photo);
    }
    lib_.AddBytes("broken/notes.jpg", "these are not pixels\n");
    lib_.AddBytes("broken/empty.png", "");
  }

  IndexOptions Options() const {
    IndexOptions o;
    o.roots = {lib_.photos().string()};
    o.scan.extensions = {"jpg", "png", "gif", "bmp", "tif", "webp"};
    o.decode.target_width = o.decode.target_height = 128;
    o.settings = "stages-test";
    o.batch_size = 4;
    o.concurrency = 2;
    o.jpeg_decode = JpegDecode::kCpu;
    return o;
  }

  std::unique_ptr<catalog::Catalog> Open(const std::string& name = "catalog.db") {
    auto c = catalog::OpenCatalog(lib_.catalog(name));
    EXPECT_OK(c);
    return std::move(c).value();
  }

  // path -> "score" of every analysed file, and the failed ones with their reasons.
  static std::map<std::string, std::string> Results(catalog::Catalog& c) {
    std::map<std::string, std::string> out;
    auto rows = c.ExportAll(0);
    EXPECT_OK(rows);
    for (const auto& row : *rows) {
      std::string v;
      for (const auto& d : row.detections) v += std::to_string(d.detection.score) + " ";
      out[row.path] = v;
    }
    auto errors = c.Errors(0, 1000);
    EXPECT_OK(errors);
    for (const auto& e : *errors) out[e.path] = "failed: " + e.error;
    return out;
  }

  std::map<std::string, std::string> Reference() {
    auto ref = Open("reference.db");
    FakeDetector detector;
    auto s = RunIndex(detector, *ref, Options());
    EXPECT_OK(s);
    EXPECT_EQ(s->done, 12);
    EXPECT_EQ(s->failed, 2);
    return Results(*ref);
  }

  TempLibrary lib_{"stages"};
};

TEST_F(StagesTest, ObserverHearsTheScanEveryBatchEachFailureAndTheEnd) {
  auto c = Open();
  FakeDetector detector;
  Recorder recorder;
  IndexOptions o = Options();
  o.observer = &recorder;
  auto s = RunIndex(detector, *c, o);
  ASSERT_OK(s);
  EXPECT_EQ(recorder.scanned.scanned, 14);
  EXPECT_EQ(recorder.scanned.to_analyse, 14);
  ASSERT_FALSE(recorder.progress.empty());
  EXPECT_EQ(recorder.progress.back().done, 14);
  EXPECT_EQ(recorder.progress.back().total, 14);
  EXPECT_EQ(recorder.progress.back().eta_s, 0);
  for (size_t i = 1; i < recorder.progress.size(); ++i)
    EXPECT_GE(recorder.progress[i].done, recorder.progress[i - 1].done);
  ASSERT_EQ(recorder.failures.size(), 2u);
  std::set<std::string> failed;
  for (const auto& f : recorder.failures) {
    failed.insert(fs::path(f.path).filename().string());
    EXPECT_FALSE(f.reason.empty());
  }
  EXPECT_EQ(failed, (std::set<std::string>{"notes.jpg", "empty.png"}));
  EXPECT_TRUE(recorder.finished);
}

// A commit that fails (disk full) stops the run with that error; the batches committed before
// it stay, and the next run does exactly the rest: nothing lost, nothing twice.
TEST_F(StagesTest, FailedCommitStopsTheRunKeepsWhatWasCommittedAndTheNextRunDoesTheRest) {
  const auto reference = Reference();
  FakeDetector detector;
  {
    FailingCatalog failing(Open(), /*fail_at=*/3);
    IndexOptions o = Options();
    o.batch_size = 2;
    auto s = RunIndex(detector, failing, o);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.status().message().find("disk full at commit 3"), std::string::npos) << s.status().ToString();
  }
  auto c = Open();
  const auto partial = Results(*c);
  EXPECT_GT(partial.size(), 0u) << "the two batches before the failure are kept";
  EXPECT_LT(partial.size(), reference.size());
  auto rest = RunIndex(detector, *c, Options());
  ASSERT_OK(rest);
  EXPECT_EQ(static_cast<size_t>(rest->done + rest->failed) + partial.size(), reference.size()) << "each file once";
  EXPECT_EQ(Results(*c), reference);
}

// Out of memory in the detector at its third batch: the batch halves (and stays halved), the
// run finishes, and the answers are those of a run that never ran out.
TEST_F(StagesTest, DetectorOutOfMemoryHalvesTheBatchAndTheRunFinishesWithTheSameAnswers) {
  const auto reference = Reference();
  auto c = Open();
  FakeDetector detector(/*oom_at=*/3);
  IndexOptions o = Options();
  o.concurrency = 3;
  auto s = RunIndex(detector, *c, o);
  ASSERT_OK(s);
  EXPECT_EQ(s->done, 12);
  EXPECT_EQ(s->failed, 2);
  EXPECT_EQ(s->final_batch_size, 1) << "halved down to the batch that ran";
  EXPECT_EQ(Results(*c), reference);
}

// Cancelled after the first committed files: the summary says so, nothing half-done is
// recorded, and the next run completes the library with every file exactly once.
TEST_F(StagesTest, CancelAtAChosenMomentCommitsWhatIsFinishedAndResumes) {
  const auto reference = Reference();
  auto c = Open();
  FakeDetector detector;
  Recorder recorder;
  recorder.cancel_after = 2;
  IndexOptions o = Options();
  o.batch_size = 1;
  o.concurrency = 1;
  o.observer = &recorder;
  o.cancel = &recorder.cancel;
  auto first = RunIndex(detector, *c, o);
  ASSERT_OK(first);
  EXPECT_TRUE(first->cancelled);
  EXPECT_LT(first->done + first->failed, 14);
  EXPECT_TRUE(recorder.finished);
  auto rest = RunIndex(detector, *c, Options());
  ASSERT_OK(rest);
  EXPECT_FALSE(rest->cancelled);
  EXPECT_EQ(first->done + first->failed + rest->done + rest->failed, 14) << "every file exactly once";
  EXPECT_EQ(Results(*c), reference);
}

// --- files that can never fit the memory budget (issue: a run that never ends) ---------------

void AppendChunk(std::string* png, const char* type, const std::string& data) {
  auto be32 = [&](uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) png->push_back(static_cast<char>((v >> shift) & 0xff));
  };
  be32(static_cast<uint32_t>(data.size()));
  const std::string body = std::string(type, 4) + data;
  png->append(body);
  be32(static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
}

// A valid gray PNG of width x height, all black: a few KB on disk, width*height*3 decoded.
std::string BlackPng(uint32_t width, uint32_t height) {
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  for (uint32_t v : {width, height}) {
    for (int shift = 24; shift >= 0; shift -= 8) ihdr.push_back(static_cast<char>((v >> shift) & 0xff));
  }
  ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // 8-bit gray, no interlace
  AppendChunk(&png, "IHDR", ihdr);
  const std::string raw(static_cast<size_t>(height) * (width + 1), '\0');  // filter 0, black rows
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(size, '\0');
  compress2(reinterpret_cast<Bytef*>(&packed[0]), &size, reinterpret_cast<const Bytef*>(raw.data()),
            static_cast<uLong>(raw.size()), 9);
  packed.resize(size);
  AppendChunk(&png, "IDAT", packed);
  AppendChunk(&png, "IEND", "");
  return png;
}

// 35 bytes: a GIF header claiming a width x height canvas, and no image.
std::string GifClaiming(uint16_t width, uint16_t height) {
  std::string gif = "GIF89a";
  gif.push_back(static_cast<char>(width & 0xff));
  gif.push_back(static_cast<char>(width >> 8));
  gif.push_back(static_cast<char>(height & 0xff));
  gif.push_back(static_cast<char>(height >> 8));
  gif += std::string("\x00\x00\x00", 3);
  gif += std::string("\x2c\x00\x00\x00\x00", 5);
  gif.push_back(static_cast<char>(width & 0xff));
  gif.push_back(static_cast<char>(width >> 8));
  gif.push_back(static_cast<char>(height & 0xff));
  gif.push_back(static_cast<char>(height >> 8));
  gif += std::string("\x00\x02\x02\x44\x01\x00\x3b", 7);
  return gif;
}

// Photos much larger than what the budget can ever free, beside ordinary ones, at several
// budgets: the run ends, each big file failed with the reason (or done), the rest done. Before,
// every decoder blocked in the budget forever.
TEST_F(StagesTest, FilesLargerThanTheBudgetCanEverFreeFailWithTheReasonAndTheRunEnds) {
  lib_.AddBytes("huge/canvas.gif", GifClaiming(9999, 7000));
  lib_.AddBytes("huge/big.png", BlackPng(12000, 8333));
  lib_.AddBytes("huge/wide.png", BlackPng(16000, 4000));
  FakeDetector detector;
  const uint64_t resident = CurrentRssBytes();
  for (const uint64_t extra : {uint64_t{150} << 20, uint64_t{250} << 20, uint64_t{400} << 20}) {
    SCOPED_TRACE("budget: resident + " + std::to_string(extra >> 20) + " MiB");
    auto c = Open("budget" + std::to_string(extra >> 20) + ".db");
    IndexOptions o = Options();
    o.concurrency = 3;
    o.decode.max_pixels = 200'000'000;
    o.max_memory = resident + (96ull << 20) + extra;
    const auto start = std::chrono::steady_clock::now();
    auto s = RunIndex(detector, *c, o);
    ASSERT_OK(s);
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(120));
    EXPECT_EQ(s->done + s->failed, 17) << "every file is recorded";
    EXPECT_GE(s->done, 12) << "the ordinary photos are all done";
    auto errors = c->Errors(0, 100);
    ASSERT_OK(errors);
    int huge_failed = 0;
    for (const auto& e : *errors) {
      if (e.path.find("/huge/") == std::string::npos) continue;
      ++huge_failed;
      EXPECT_FALSE(e.error.empty()) << e.path;
      // At the tightest budget none can ever fit: each says so, with the numbers.
      if (extra == uint64_t{150} << 20) {
        EXPECT_NE(e.error.find("at most"), std::string::npos) << e.path << ": " << e.error;
      }
    }
    if (extra == uint64_t{150} << 20) {
      EXPECT_EQ(huge_failed, 3);
    }
  }
}

}  // namespace
}  // namespace mediadex::pipeline
