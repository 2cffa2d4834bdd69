#include "pipeline/indexer.h"

#include <cstdio>

#include "core/memory.h"
#include "pipeline/index_run.h"
#include "pipeline/memory_plan.h"
#include "pipeline/reconcile.h"

namespace mediadex::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string DeviceNames(const std::vector<const model::Detector*>& detectors) {
  std::string names;
  for (const auto* d : detectors) {
    if (names.find(d->device().name) == std::string::npos) names += (names.empty() ? "" : ",") + d->device().name;
  }
  return names;
}

}  // namespace

Result<JpegDecode> ParseJpegDecode(const std::string& name) {
  if (name == "cpu") return JpegDecode::kCpu;
  if (name == "gpu") return JpegDecode::kGpu;
  if (name == "auto") return JpegDecode::kAuto;
  return InvalidArgument("decode must be cpu, gpu or auto, not '" + name + "'");
}

std::string ResultSettings(const model::DetectOptions& detect, const std::string& preprocess,
                           const std::string& tiles) {
  char settings[160];
  std::snprintf(settings, sizeof(settings), "score_min=%g;iou=%g;max=%d;preprocess=%s", detect.score_min,
                detect.nms_iou, detect.max_detections, preprocess.c_str());
  return tiles == "off" ? std::string(settings) : std::string(settings) + ";tiles=" + tiles;
}

Result<IndexSummary> RunIndex(const model::Detector& detector, catalog::Catalog& catalog, const IndexOptions& options) {
  return RunIndex(std::vector<const model::Detector*>{&detector}, catalog, options);
}

Result<std::vector<catalog::MediaRow>> ScanForWork(catalog::Catalog& catalog, const model::ModelInfo& info,
                                                   const IndexOptions& options, IndexSummary* summary,
                                                   int64_t* model_id) {
  const auto start = Clock::now();
  // 1. Scan and reconcile: what is new, changed, moved or gone (of this shard only: the files of
  // other shards are not looked at, so they cannot look gone).
  media::ScanReport scan = media::ScanTree(options.roots, options.scan);
  const std::vector<std::string> roots = NormalRoots(options.roots);
  if (!options.shard.all()) {
    std::vector<media::ScannedFile> mine;
    for (auto& f : scan.files) {
      if (InShard(f.path, roots, options.shard)) mine.push_back(std::move(f));
    }
    scan.files = std::move(mine);
  }
  summary->warnings = scan.warnings;
  summary->scanned = static_cast<int64_t>(scan.files.size());
  auto reconciled = Reconcile(catalog, scan, roots, options.shard);
  if (!reconciled.ok()) return reconciled.status();
  const catalog::ScanChanges& changes = reconciled->changes;
  summary->added = static_cast<int64_t>(changes.added.size());
  summary->changed = static_cast<int64_t>(changes.changed.size());
  summary->moved = static_cast<int64_t>(changes.moved.size());
  summary->gone = static_cast<int64_t>(changes.gone.size());
  summary->unchanged = reconciled->unchanged;
  MDX_RETURN_IF_ERROR(catalog.ApplyScan(changes));
  summary->scan_seconds = Since(start);

  // 2. What this model still has to look at (everything not done with these settings).
  auto id = catalog.RegisterModel({info.name, info.version, options.settings});
  if (!id.ok()) return id.status();
  *model_id = *id;
  auto pending = catalog.PendingFor(*id, 0);
  if (!pending.ok()) return pending.status();
  std::vector<catalog::MediaRow> todo;
  for (auto& row : *pending) {
    if (UnderRoots(row.path, roots) && InShard(row.path, roots, options.shard)) todo.push_back(std::move(row));
  }
  if (options.observer != nullptr) {
    options.observer->OnScanned({summary->scanned, summary->added, summary->changed, summary->moved, summary->gone,
                                 summary->unchanged, static_cast<int64_t>(todo.size()), summary->scan_seconds});
  }
  return todo;
}

Result<IndexSummary> RunIndex(const std::vector<const model::Detector*>& detectors, catalog::Catalog& catalog,
                              const IndexOptions& options) {
  if (detectors.empty()) return InvalidArgument("RunIndex: no detector");
  IndexSummary summary;
  const auto start = Clock::now();
  int64_t model_id = 0;
  auto scanned = ScanForWork(catalog, detectors.front()->info(), options, &summary, &model_id);
  if (!scanned.ok()) return scanned.status();
  std::vector<catalog::MediaRow> todo = std::move(scanned).value();
  const std::vector<std::string> roots = NormalRoots(options.roots);

  // 3. Plan: the memory budget (what --max-memory leaves after the runtime and model already
  // resident), the batch that fits it, the GPU decoders.
  auto plan = PlanMemory(detectors, options.batch_size, options.max_memory, CurrentRssBytes());
  if (!plan.ok()) return plan.status();
  auto gpu_plans = PlanGpuDecoders(detectors, options.jpeg_decode, options.nvjpeg_workers);
  if (!gpu_plans.ok()) return gpu_plans.status();

  // 4. Run: every batch committed as it is done.
  catalog::RunInfo run;
  run.model_id = model_id;
  run.device = DeviceNames(detectors);
  run.settings = "batch_size=" + std::to_string(options.batch_size) +
                 ";concurrency=" + std::to_string(options.concurrency) +
                 ";max_memory=" + std::to_string(options.max_memory) + ";" + options.settings;
  run.roots = roots;
  auto run_id = catalog.BeginRun(run);
  if (!run_id.ok()) return run_id.status();
  Status analysed;
  if (!todo.empty()) {
    analysed = AnalysePending(detectors, std::move(gpu_plans).value(), catalog, options, model_id, *run_id,
                              std::move(todo), *plan, &summary);
  } else {
    summary.budget_bytes = plan->host_budget;
    summary.final_batch_size = plan->batch_size;
    if (options.observer != nullptr) options.observer->OnProgress(IndexProgress{});
  }

  // 5. Finish: the run's record, the summary.
  const Status finished = catalog.FinishRun(*run_id, {summary.done, summary.failed, summary.unchanged});
  summary.seconds = Since(start);
  const double analyse_s = summary.seconds - summary.scan_seconds;
  summary.images_per_s = analyse_s > 0 ? (summary.done + summary.failed) / analyse_s : 0;
  summary.peak_rss = PeakRssBytes();
  if (!analysed.ok()) return analysed;
  if (!finished.ok()) return finished;
  if (options.observer != nullptr) options.observer->OnFinished(summary);
  return summary;
}

}  // namespace mediadex::pipeline
