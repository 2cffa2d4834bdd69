// Write stage: one thread commits each batch of results in one catalog transaction (detections
// and file status together), then tells the observer. A failed commit stops the run: what was
// committed stays, the rest stays pending for the next run.
//
// Takes: batches from results. Gives: rows in the catalog; progress and failures to the observer.
#ifndef MEDIADEX_PIPELINE_STAGES_WRITE_H_
#define MEDIADEX_PIPELINE_STAGES_WRITE_H_

#include <atomic>
#include <unordered_map>

#include "catalog/catalog.h"
#include "pipeline/run_context.h"

namespace mediadex::pipeline {

class WriteStage {
 public:
  WriteStage(RunContext& run, catalog::Catalog& catalog, int64_t model_id, int64_t run_id)
      : run_(run), catalog_(catalog), model_id_(model_id), run_id_(run_id) {}

  // Returns once results is closed and drained; drains (and drops) after a failed commit so
  // that producers never block.
  void Run();

  int64_t done() const { return done_; }
  int64_t failed() const { return failed_; }
  // The commit that failed, if one did. Read after Run returned.
  const Status& status() const { return status_; }

 private:
  void Report();
  const std::string& PathOf(int64_t media_id);

  RunContext& run_;
  catalog::Catalog& catalog_;
  const int64_t model_id_, run_id_;
  std::atomic<int64_t> done_{0}, failed_{0};  // committed
  // Writer thread only:
  Status status_;
  std::unordered_map<int64_t, std::string> path_by_id_;
};

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_STAGES_WRITE_H_
