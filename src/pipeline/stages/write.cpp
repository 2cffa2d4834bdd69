#include "pipeline/stages/write.h"

#include <spdlog/spdlog.h>

#include "pipeline/progress.h"

namespace mediadex::pipeline {

using Clock = std::chrono::steady_clock;

void WriteStage::Run() {
  while (auto batch = run_.results.Pop()) {
    if (!status_.ok()) continue;
    const auto start = Clock::now();
    const Status committed = catalog_.CommitBatch(model_id_, run_id_, *batch);
    run_.stats.write.Add(start);
    if (!committed.ok()) {
      status_ = committed.WithContext("catalog");
      run_.StopAll();
      continue;
    }
    for (const auto& r : *batch) {
      if (r.ok) {
        ++done_;
        continue;
      }
      ++failed_;
      const std::string& path = PathOf(r.media_id);
      spdlog::warn("{}: {}", path, r.error);
      if (run_.options.observer != nullptr) run_.options.observer->OnFailure({r.media_id, path, r.error});
    }
    Report();
  }
  Report();
}

const std::string& WriteStage::PathOf(int64_t media_id) {
  if (path_by_id_.empty()) {
    for (const auto& row : run_.pending) path_by_id_.emplace(row.id, row.path);
  }
  return path_by_id_[media_id];
}

void WriteStage::Report() {
  if (run_.options.observer == nullptr) return;
  const RunStats& stats = run_.stats;
  IndexProgress p;
  p.total = static_cast<int64_t>(run_.pending.size());
  p.done = done_ + failed_;
  p.failed = failed_;
  p.elapsed_s = stats.elapsed();
  p.images_per_s = p.elapsed_s > 0 ? p.done / p.elapsed_s : 0;
  p.eta_s = p.images_per_s > 0 && p.done < p.total ? (p.total - p.done) / p.images_per_s : 0;
  p.batch_size = run_.batch_size;
  p.read_decode_s = stats.decode.seconds();
  p.gpu_decode_s = stats.gpu_decode.seconds();
  p.infer_s = stats.infer.seconds();
  p.write_s = stats.write.seconds();
  run_.options.observer->OnProgress(p);
}

}  // namespace mediadex::pipeline
