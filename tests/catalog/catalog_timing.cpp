// Times the catalog calls on the incremental-scan path with 10,000 files (not a test; the numbers
// go into src/catalog/README.md). Usage: catalog_timing [DIR [--keep]]
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>

#include "catalog/catalog.h"

using namespace mediadex;           // NOLINT: a small tool
using namespace mediadex::catalog;  // NOLINT

namespace {

double cpu_ms_last = 0;  // CPU time of the last Millis() call, per repeat: load on a shared box inflates wall time

template <typename F>
double Millis(int repeat, F&& f) {
  std::clock_t cpu_start = std::clock();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeat; ++i) f();
  cpu_ms_last = 1000.0 * double(std::clock() - cpu_start) / CLOCKS_PER_SEC / repeat;
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / repeat;
}

void Check(const Status& s) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    std::exit(1);
  }
}

// printf, then the CPU time of the Millis() call that produced the line.
template <typename... Args>
void Report(const char* format, Args... args) {
  std::string f(format);
  if (!f.empty() && f.back() == '\n') f.pop_back();
  std::printf(f.c_str(), args...);
  std::printf("   (cpu %.2f ms)\n", cpu_ms_last);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : std::filesystem::temp_directory_path().string();
  std::string path = dir + "/catalog_timing_" + std::to_string(getpid()) + ".db";
  auto opened = OpenCatalog(path);
  Check(opened.status());
  Catalog& catalog = **opened;
  const int kFiles = 10000, kBatch = 64, kPerFile = 10;
  int64_t model = catalog.RegisterModel({"centernet", "v1", "iou=0.4"}).value();

  ScanChanges changes;
  for (int i = 0; i < kFiles; ++i) {
    changes.added.push_back({"/library/folder" + std::to_string(i / 100) + "/IMG_" + std::to_string(i) + ".jpg",
                             uint64_t(3000000 + i), int64_t(1700000000000000000LL + i), MediaKind::kImage});
  }
  Report("ApplyScan, 10000 added:        %8.2f ms\n", Millis(1, [&] { Check(catalog.ApplyScan(changes)); }));

  auto pending = catalog.PendingFor(model, 0);
  Check(pending.status());
  const char* labels[] = {"person", "dog", "cat", "car", "bicycle", "bird", "chair", "cup", "tv", "boat"};
  double commit_ms = 0, commit_cpu_ms = 0;
  int batches = 0;
  for (size_t start = 0; start < pending->size(); start += kBatch) {
    std::vector<MediaResult> results;
    for (size_t i = start; i < start + kBatch && i < pending->size(); ++i) {
      MediaResult r;
      r.media_id = (*pending)[i].id;
      r.content_hash = "0123456789abcdef";
      r.width = 4000;
      r.height = 3000;
      for (int k = 0; k < kPerFile; ++k) {
        StoredDetection d;
        d.detection = {k, labels[(i + k) % 10], 0.1f + 0.08f * k, {10.f * k, 20.f, 100.f + k, 200.f}};
        r.detections.push_back(d);
      }
      results.push_back(std::move(r));
    }
    commit_ms += Millis(1, [&] { Check(catalog.CommitBatch(model, 0, results)); });
    commit_cpu_ms += cpu_ms_last;
    ++batches;
  }
  cpu_ms_last = commit_cpu_ms / batches;
  Report("CommitBatch, 64 files x 10:    %8.3f ms (mean of %d batches)\n", commit_ms / batches, batches);
  Report("LoadFileIndex, 10000 rows:     %8.2f ms\n", Millis(20, [&] { Check(catalog.LoadFileIndex().status()); }));
  Report("PendingFor, none pending:      %8.2f ms\n", Millis(20, [&] { Check(catalog.PendingFor(model, 0).status()); }));
  Report("Summary:                       %8.2f ms\n", Millis(5, [&] { Check(catalog.Summary(model).status()); }));
  Report("Search dog, limit 100:         %8.2f ms\n", Millis(5, [&] { Check(catalog.Search({{"dog"}}).status()); }));
  Report("Search dog+cat --all min 0.5:  %8.2f ms\n",
              Millis(5, [&] { Check(catalog.Search({{"dog", "cat"}, true, 0.5f}).status()); }));
  Report("ExportAll (100k detections):   %8.2f ms\n", Millis(1, [&] { Check(catalog.ExportAll(model).status()); }));
  Report("OpenCatalog (existing):        %8.2f ms\n", Millis(5, [&] { Check(OpenCatalog(path).status()); }));
  opened = Status(StatusCode::kCancelled, "done");
  if (argc > 2 && std::string(argv[2]) == "--keep") {
    std::printf("kept %s\n", path.c_str());
  } else {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  return 0;
}
