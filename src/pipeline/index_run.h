// The thread topology of one index run's analysis: which threads run which stage, in what
// order the queues close, and how a cancellation or a failed commit winds everything down.
//
//   writer (1) <- inference workers (one per detector; the calling thread is the first)
//             <- upload threads (one per GPU that takes uploads)
//             <- CPU decoders (--concurrency) and, per GPU, nvJPEG feeders and workers
//   closer (1): once every decoder is done, decodes the files that ran out of memory alone,
//               then closes the upload queues, waits for the uploaders, closes the lanes.
#ifndef MEDIADEX_PIPELINE_INDEX_RUN_H_
#define MEDIADEX_PIPELINE_INDEX_RUN_H_

#include <vector>

#include "catalog/catalog.h"
#include "pipeline/indexer.h"
#include "pipeline/memory_plan.h"
#include "pipeline/run_context.h"

namespace mediadex::pipeline {

// nvJPEG workers for each CUDA device among the detectors' (--decode gpu|auto). Errors:
// InvalidArgument for --decode gpu without a CUDA detector.
Result<std::vector<GpuDecodePlan>> PlanGpuDecoders(const std::vector<const model::Detector*>& detectors,
                                                   JpegDecode mode, int workers_per_gpu);

// Analyses `pending` and commits each batch under `model_id` and `run_id`; fills the analysis
// fields of `summary`. Errors: a failed commit (what was committed stays), nvJPEG that did not
// start under --decode gpu, the detectors' memory that does not fit.
Status AnalysePending(const std::vector<const model::Detector*>& detectors, std::vector<GpuDecodePlan> gpu_plans,
                      catalog::Catalog& catalog, const IndexOptions& options, int64_t model_id, int64_t run_id,
                      std::vector<catalog::MediaRow> pending, const MemoryPlan& plan, IndexSummary* summary);

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_INDEX_RUN_H_
