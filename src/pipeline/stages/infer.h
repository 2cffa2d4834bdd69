// Inference stage: one loop per inference worker (a GPU each, or CPU workers sharing one
// detector). Each takes what is ready from its lane's queue, up to the batch size, runs the
// detector with the out-of-memory backoff, gives the items' memory back, and turns them into
// catalog results. A video's frames may reach several workers; its one result is made when
// every frame up to the last has been seen.
//
// Takes: WorkItems from decoded[lane]. Gives: batches of MediaResult to results.
#ifndef MEDIADEX_PIPELINE_STAGES_INFER_H_
#define MEDIADEX_PIPELINE_STAGES_INFER_H_

#include <unordered_map>

#include "core/thread_annotations.h"
#include "pipeline/run_context.h"

namespace mediadex::pipeline {

class InferStage {
 public:
  explicit InferStage(RunContext& run) : run_(run) {}

  // Returns once the lane's queue is closed and drained. Thread-safe: one call per worker.
  void Run(const model::Detector& detector);

 private:
  // A video's frames so far.
  struct VideoAccumulator {
    int received = 0;   // frame items seen
    int expected = -1;  // known once the last frame arrives
    std::vector<catalog::StoredDetection> detections;
    bool failed = false;
    std::string error;
  };
  void DetectItems(const model::Detector& detector, std::vector<WorkItem>& batch,
                   std::vector<catalog::MediaResult>* out);
  // Adds one frame; the video's result once it is complete.
  std::optional<catalog::MediaResult> AddFrame(WorkItem& frame, std::vector<Detection> found);

  RunContext& run_;
  Mutex videos_mutex_;
  // Videos whose last frame has not come yet (cancelled ones stay here: nothing is recorded).
  std::unordered_map<int64_t, VideoAccumulator> videos_ GUARDED_BY(videos_mutex_);
};

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_STAGES_INFER_H_
