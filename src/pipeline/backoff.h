// The one out-of-memory policy for detection, shared by `index` and `detect`: when the device
// or the allocator says "out of memory", the batch is halved and retried, and the smaller batch
// stays for the rest of the run (said once on stderr), down to one image.
#ifndef MEDIADEX_PIPELINE_BACKOFF_H_
#define MEDIADEX_PIPELINE_BACKOFF_H_

#include <atomic>
#include <vector>

#include "core/image.h"
#include "model/detector.h"

namespace mediadex::pipeline {

// Detects in `images`; on OutOfMemory splits them in halves (recursively) and lowers
// `*batch_size`, which the caller's batcher reads, to the half that was tried. Errors: those
// of Detect, and OutOfMemory when even one image does not fit.
Result<std::vector<std::vector<Detection>>> DetectWithBackoff(const model::Detector& detector,
                                                              const std::vector<const RgbImage*>& images,
                                                              const model::DetectOptions& options,
                                                              std::atomic<int>* batch_size);

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_BACKOFF_H_
