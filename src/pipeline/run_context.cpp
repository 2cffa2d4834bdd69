#include "pipeline/run_context.h"

#include <algorithm>

#include "media/scan.h"

namespace mediadex::pipeline {
namespace {

// JPEGs checked and waiting for a GPU's nvJPEG workers: one and a half batches of 64. More
// would leave the CPU decoders idle at the end of a run while nvJPEG works through them.
constexpr size_t kCheckedJpegsWaiting = 96;

// JPEGs nvJPEG refused, read and waiting for a CPU decoder; a feeder decodes one itself only
// when these are taken: feeders that decode keep the GPU's decoders waiting.
constexpr size_t kRefusedJpegsWaiting = 16;

bool HasJpegExtension(const std::string& path) {
  const std::string ext = media::ExtensionOf(path);
  return ext == "jpg" || ext == "jpeg" || ext == "jpe" || ext == "jfif";
}

}  // namespace

RunContext::RunContext(std::vector<const model::Detector*> detectors_in, std::vector<GpuDecodePlan> gpu_plans_in,
                       const IndexOptions& options_in, std::vector<catalog::MediaRow> pending_in,
                       const MemoryPlan& plan)
    : detectors(std::move(detectors_in)),
      gpu_plans(std::move(gpu_plans_in)),
      options(options_in),
      pending(std::move(pending_in)),
      footprint(plan.footprint),
      budget(plan.host_budget),
      batch_size(plan.batch_size),
      decoders_allowed(std::max(1, options_in.concurrency)) {
  // A queue of decoded photos per distinct detector: a photo prepared on a GPU waits for that
  // GPU's inference worker (no copies between GPUs); CPU workers share one detector and queue.
  for (const model::Detector* d : detectors) {
    if (std::find(lanes.begin(), lanes.end(), d) != lanes.end()) continue;
    lanes.push_back(d);
    decoded.push_back(std::make_unique<BoundedQueue<WorkItem>>(plan.queue_capacity));
    uploads.push_back(d->UploadsPreparedInputs() ? std::make_unique<BoundedQueue<WorkItem>>(
                                                       static_cast<size_t>(std::max(4, 2 * plan.batch_size)))
                                                 : nullptr);
    const bool nvjpeg =
        std::any_of(gpu_plans.begin(), gpu_plans.end(), [d](const GpuDecodePlan& p) { return p.detector == d; });
    checked.push_back(nvjpeg ? std::make_unique<BoundedQueue<CheckedJpeg>>(kCheckedJpegsWaiting) : nullptr);
    refused.push_back(nvjpeg ? std::make_unique<BoundedQueue<CheckedJpeg>>(kRefusedJpegsWaiting) : nullptr);
  }
  for (const auto& [index, bytes] : plan.gpu_budgets) gpu_memory.emplace(index, std::make_unique<MemoryBudget>(bytes));
  // With GPU decoders, JPEGs (by name; the content is checked) form a list of their own:
  // GPU decoders take only those, CPU decoders everything else first.
  for (size_t i = 0; i < pending.size(); ++i) {
    const bool jpeg =
        !gpu_plans.empty() && pending[i].kind == catalog::MediaKind::kImage && HasJpegExtension(pending[i].path);
    (jpeg ? jpegs_ : others_).push_back(i);
  }
}

void RunContext::StopAll() {
  stop = true;
  budget.Cancel();
  for (auto& [index, memory] : gpu_memory) memory->Cancel();
}

const catalog::MediaRow* RunContext::NextRow(bool gpu) {
  if (!gpu) {
    const size_t i = next_other_.fetch_add(1);
    if (i < others_.size()) return &pending[others_[i]];
    if (options.jpeg_decode == JpegDecode::kGpu && !gpu_plans.empty()) return nullptr;
  }
  const size_t i = next_jpeg_.fetch_add(1);
  return i < jpegs_.size() ? &pending[jpegs_[i]] : nullptr;
}

size_t RunContext::LaneOf(const model::Detector* detector) const {
  return static_cast<size_t>(std::find(lanes.begin(), lanes.end(), detector) - lanes.begin());
}

MemoryBudget* RunContext::GpuMemoryOf(const model::Detector& detector) {
  if (!detector.device().own_memory) return nullptr;
  return gpu_memory.at(detector.device().index).get();
}

std::optional<CheckedJpeg> RunContext::TakeRefusedJpeg() {
  for (auto& queue : refused) {
    if (!queue) continue;
    if (auto jpeg = queue->PopFor(std::chrono::milliseconds(0))) return jpeg;
  }
  return std::nullopt;
}

std::optional<CheckedJpeg> RunContext::TakeCheckedJpeg() {
  if (options.jpeg_decode != JpegDecode::kAuto) return std::nullopt;
  for (auto& queue : checked) {
    if (!queue) continue;
    if (auto jpeg = queue->PopFor(std::chrono::milliseconds(0))) return jpeg;
  }
  return std::nullopt;
}

}  // namespace mediadex::pipeline
