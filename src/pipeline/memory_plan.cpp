#include "pipeline/memory_plan.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/config.h"

namespace mediadex::pipeline {
namespace {

// Runtime overhead the budget does not see (queues, catalog page cache, allocator slack).
constexpr uint64_t kRuntimeSlackBytes = 96ull << 20;
// Share of a GPU's free memory (at start) that nvJPEG's decoded pixels and the prepared inputs
// waiting for the detector may take; the rest is the model's and its activations'.
constexpr uint64_t kGpuMemoryShare = 3;  // one third
// Decoded images a GPU run may queue, in batches: enough to keep the decoders going through
// the first forward pass at the batch's shape (seconds); memory budgets bound them first.
constexpr int kGpuQueuedBatches = 64;

}  // namespace

Result<MemoryPlan> PlanMemory(const std::vector<const model::Detector*>& detectors, int batch_size, uint64_t max_memory,
                              uint64_t resident) {
  if (max_memory <= resident + kRuntimeSlackBytes) {
    return InvalidArgument("--max-memory " + FormatBytes(max_memory) + " is below what the runtime and model " +
                           "already use (" + FormatBytes(resident) + " + " + FormatBytes(kRuntimeSlackBytes) +
                           " slack)");
  }
  MemoryPlan plan;
  plan.host_budget = max_memory - resident - kRuntimeSlackBytes;
  plan.footprint = detectors.front()->footprint();
  const model::Footprint& f = plan.footprint;
  const int wanted = std::max(1, f.batch_most > 0 ? std::min(batch_size, f.batch_most) : batch_size);
  // The detectors' working memory for a full batch each is held from the start, so decoders can
  // never take the room inference needs: half the budget at most; the batch shrinks to fit.
  const uint64_t workers = detectors.size();
  const uint64_t per_image = std::max<uint64_t>(1, f.host_bytes_per_image);
  plan.batch_size = std::max(1, std::min<int>(wanted, static_cast<int>(plan.host_budget / 2 / workers / per_image)));
  if (plan.batch_size < std::min(batch_size, wanted)) {
    spdlog::info("batch size {} -> {} to fit --max-memory {}", batch_size, plan.batch_size, FormatBytes(max_memory));
  }
  plan.inference_bytes = per_image * plan.batch_size * workers;
  if (plan.inference_bytes > plan.host_budget) {
    return InvalidArgument("--max-memory " + FormatBytes(max_memory) +
                           " is too small for even one image in the detector");
  }
  // Two batches in waiting, or on CUDA many: a GPU run's first forward pass takes seconds, and
  // its prepared inputs are small and bounded by the memory budgets.
  const bool cuda = detectors.front()->device().kind == engine::DeviceKind::kCuda;
  plan.queue_capacity = static_cast<size_t>(std::max(4, wanted * (cuda ? kGpuQueuedBatches : 2)));
  for (const model::Detector* d : detectors) {
    const engine::DeviceInfo& device = d->device();
    if (!device.own_memory || plan.gpu_budgets.count(device.index)) continue;
    const uint64_t free = device.memory_free != 0 ? device.memory_free : device.memory_total;
    plan.gpu_budgets.emplace(device.index, free / kGpuMemoryShare);
  }
  return plan;
}

}  // namespace mediadex::pipeline
