// What an index run tells whoever watches it: the CLI's progress bar, the server's event
// stream, a worker's heartbeat. Implement the calls you need; each has an empty default.
//
//   class Bar : public pipeline::IndexObserver {
//     void OnProgress(const pipeline::IndexProgress& p) override { Draw(p.done, p.total, p.eta_s); }
//   };
//   Bar bar;
//   CancelToken stop;                    // stop.Cancel() from Ctrl-C or a button
//   options.observer = &bar;
//   options.cancel = &stop;
//
// Threads: OnScanned and OnFinished come on the thread that called RunIndex, OnProgress and
// OnFailure on the run's writer thread, one call at a time, in order. Keep them short: the
// writer commits the next batch only when they return.
#ifndef MEDIADEX_PIPELINE_PROGRESS_H_
#define MEDIADEX_PIPELINE_PROGRESS_H_

#include <cstdint>
#include <string>

namespace mediadex::pipeline {

struct IndexSummary;

// What the scan found, before analysis starts.
struct ScanCounts {
  int64_t scanned = 0, added = 0, changed = 0, moved = 0, gone = 0, unchanged = 0;
  int64_t to_analyse = 0;  // files with no current result for this model and settings
  double seconds = 0;
};

// After each committed batch.
struct IndexProgress {
  int64_t total = 0;  // files to analyse in this run
  int64_t done = 0;   // committed, including failed
  int64_t failed = 0;
  double elapsed_s = 0;     // since analysis started
  double images_per_s = 0;  // over the run so far
  double eta_s = 0;         // at that rate; 0 when unknown or done
  int batch_size = 0;       // current (may shrink after out-of-memory)
  // Seconds each stage has worked so far, summed over its threads.
  double read_decode_s = 0, gpu_decode_s = 0, infer_s = 0, write_s = 0;
};

// A file the run could not analyse, once its failure is committed to the catalog.
struct FileFailure {
  int64_t media_id = 0;
  std::string path;
  std::string reason;
};

class IndexObserver {
 public:
  virtual ~IndexObserver() = default;
  virtual void OnScanned(const ScanCounts& counts) { (void)counts; }
  virtual void OnProgress(const IndexProgress& progress) { (void)progress; }
  virtual void OnFailure(const FileFailure& failure) { (void)failure; }
  // The run's end, cancelled or not (summary.cancelled); not called when RunIndex fails.
  virtual void OnFinished(const IndexSummary& summary) { (void)summary; }
};

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_PROGRESS_H_
