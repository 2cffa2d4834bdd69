// Where an index run's time goes: each stage's working time (the summary and progress), and
// the finer phases and CPU times that -v logs at the end. Every field may be added to from any
// thread.
#ifndef MEDIADEX_PIPELINE_RUN_STATS_H_
#define MEDIADEX_PIPELINE_RUN_STATS_H_

#include <atomic>
#include <cstdint>

#include "core/time_accumulator.h"

namespace mediadex::pipeline {

struct RunStats {
  using Clock = std::chrono::steady_clock;
  Clock::time_point start = Clock::now();
  int64_t process_cpu_at_start = ProcessCpuMicros();

  TimeAccumulator decode, gpu_decode, infer, write;  // each stage, summed over its threads
  TimeAccumulator infer_wait;                        // inference waiting for decoded photos
  FirstAndLast cpu_decoders_done;                    // when CPU decoders ran out of files
  struct {
    TimeAccumulator read, decode, prepare;  // read also counts files that are not decoded
    TimeAccumulator handoff;                // waiting for room in the next stage's queue
    std::atomic<int64_t> files{0};
  } cpu_phases;
  struct {
    TimeAccumulator read, check, nvjpeg, prepare, cpu;
    TimeAccumulator queue_full;  // feeders waiting for room among the checked JPEGs
    TimeAccumulator starved;     // workers waiting for checked JPEGs
  } gpu_phases;
  struct {
    TimeAccumulator decoders, nvjpeg_feeders, nvjpeg_workers, upload, inference;
  } cpu_used;  // CPU time of each kind of thread

  double elapsed() const { return std::chrono::duration<double>(Clock::now() - start).count(); }
  // The -v lines: where the phases' and the threads' time went.
  void LogDetails(bool nvjpeg_ran) const;
};

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_RUN_STATS_H_
