// Upload stage: one thread per GPU whose detector UploadsPreparedInputs. CPU-prepared inputs
// move into the GPU's memory (leasing its budget, giving the host's back) here, at normal
// priority, so CPU decoders make no device call and Detect only gathers. Inputs go up
// together, as many as are waiting: each CUDA call may wait for nvJPEG's decode. An input that
// cannot move stays on the host; Detect uploads it itself.
//
// Takes: WorkItems from uploads[lane]. Gives: the same items to decoded[lane].
#ifndef MEDIADEX_PIPELINE_STAGES_UPLOAD_H_
#define MEDIADEX_PIPELINE_STAGES_UPLOAD_H_

#include "pipeline/run_context.h"

namespace mediadex::pipeline {

// Returns once uploads[lane] is closed and drained.
void RunUploader(RunContext& run, size_t lane);

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_STAGES_UPLOAD_H_
