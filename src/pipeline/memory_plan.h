// How an index run divides --max-memory: the host budget for images in flight and inference,
// the batch that fits it, how many decoded photos may wait, and each GPU's share of its memory.
// The numbers of one model come from its detector (model::Footprint), never from here.
#ifndef MEDIADEX_PIPELINE_MEMORY_PLAN_H_
#define MEDIADEX_PIPELINE_MEMORY_PLAN_H_

#include <cstdint>
#include <map>
#include <vector>

#include "core/status.h"
#include "model/detector.h"

namespace mediadex::pipeline {

struct MemoryPlan {
  uint64_t host_budget = 0;             // bytes for images in flight + the detectors' working memory
  model::Footprint footprint;           // of the first detector (all run the same model)
  int batch_size = 1;                   // what every inference worker starts with (may halve later)
  uint64_t inference_bytes = 0;         // the detectors' working memory at that batch, held all run
  size_t queue_capacity = 4;            // decoded photos that may wait for one inference lane
  std::map<int, uint64_t> gpu_budgets;  // CUDA device index -> bytes for decoded pixels and inputs
};

// Errors: InvalidArgument when --max-memory is below what the process already holds
// (`resident`) plus the runtime's slack, or too small for one image in the detectors.
Result<MemoryPlan> PlanMemory(const std::vector<const model::Detector*>& detectors, int batch_size, uint64_t max_memory,
                              uint64_t resident);

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_MEMORY_PLAN_H_
