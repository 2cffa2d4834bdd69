// What the stages of one index run share: the work to do, the queues between them, the memory
// budgets, the batch size, cancellation, counters and timers. Built by IndexRun (index_run.h),
// which owns it and every thread that uses it.
//
// Data flow (a lane is one distinct detector: a GPU, or the CPU workers sharing one detector):
//
//   pending files --> cpu_decode (N threads) ----------------> uploads[lane] --> upload --+
//              \                                         \--> (no upload stage) -------+--> decoded[lane] --> infer -->
//              results --> write
//               \-> gpu_decode feeders --> checked[lane] --> nvJPEG workers -----------+
//
// Constant after construction: everything but the atomics, the queues' contents and the
// budgets' counts (each thread-safe).
#ifndef MEDIADEX_PIPELINE_RUN_CONTEXT_H_
#define MEDIADEX_PIPELINE_RUN_CONTEXT_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "catalog/catalog.h"
#include "core/bounded_queue.h"
#include "core/cancel.h"
#include "core/memory.h"
#include "model/detector.h"
#include "pipeline/indexer.h"
#include "pipeline/memory_plan.h"
#include "pipeline/run_stats.h"
#include "pipeline/work_item.h"

namespace mediadex::pipeline {

// nvJPEG workers to start on one GPU, and the detector there that prepares what they decode.
struct GpuDecodePlan {
  const model::Detector* detector = nullptr;
  int workers = 1;
};

struct RunContext {
  RunContext(std::vector<const model::Detector*> detectors, std::vector<GpuDecodePlan> gpu_plans,
             const IndexOptions& options, std::vector<catalog::MediaRow> pending, const MemoryPlan& plan);

  // ---- constant after construction ----------------------------------------------------------
  const std::vector<const model::Detector*> detectors;  // one per inference worker
  const std::vector<GpuDecodePlan> gpu_plans;
  const IndexOptions& options;
  const std::vector<catalog::MediaRow> pending;
  const model::Footprint footprint;
  std::vector<const model::Detector*> lanes;  // distinct detectors; decoded[i] feeds lanes[i]

  // ---- queues: thread-safe ------------------------------------------------------------------
  std::vector<std::unique_ptr<BoundedQueue<WorkItem>>> decoded;     // per lane: ready for inference
  std::vector<std::unique_ptr<BoundedQueue<WorkItem>>> uploads;     // per lane; nullptr: no upload stage
  std::vector<std::unique_ptr<BoundedQueue<CheckedJpeg>>> checked;  // per lane with nvJPEG; else nullptr
  // Read JPEGs nvJPEG refused (progressive on the hardware engine...), for the CPU decoders.
  std::vector<std::unique_ptr<BoundedQueue<CheckedJpeg>>> refused;  // per lane with nvJPEG; else nullptr
  BoundedQueue<std::vector<catalog::MediaResult>> results{4};       // committed by the writer
  BoundedQueue<catalog::MediaRow> retry{1 << 16};                   // decoded alone after the others

  // ---- memory: thread-safe ------------------------------------------------------------------
  MemoryBudget budget;                                      // host: --max-memory less the runtime
  std::map<int, std::unique_ptr<MemoryBudget>> gpu_memory;  // per CUDA device index

  // ---- shared progress ----------------------------------------------------------------------
  std::atomic<int> batch_size{1};        // lowered by backoff
  std::atomic<int> decoders_allowed{1};  // lowered when decoding runs out of memory
  std::atomic<bool> retrying{false};     // the closer decodes the retry queue: no more retries
  std::atomic<bool> stop{false};         // the writer failed: stop everything
  std::atomic<int64_t> gpu_decoded{0};
  std::atomic<int64_t> gpu_huffman_decoded{0};  // of gpu_decoded
  std::atomic<int64_t> video_frames{0};
  RunStats stats;

  bool Cancelled() const { return stop.load() || (options.cancel != nullptr && options.cancel->cancelled()); }
  // Stops every stage soon (a failed commit): no more work taken, every waiter woken.
  void StopAll();

  // The next file for a decoder: CPU decoders take everything but JPEGs first (only they can
  // decode it), then JPEGs unless --decode gpu; GPU decoders take JPEGs only. nullptr: none left.
  const catalog::MediaRow* NextRow(bool gpu);
  // Where a decoder hands a CPU-decoded photo of `lane`: its upload queue if it has one, else
  // the detector's queue.
  BoundedQueue<WorkItem>& Inbox(size_t lane) { return uploads[lane] ? *uploads[lane] : *decoded[lane]; }
  size_t LaneOf(const model::Detector* detector) const;
  // The memory budget of a CUDA detector's GPU; nullptr for other devices.
  MemoryBudget* GpuMemoryOf(const model::Detector& detector);
  // A JPEG the feeders checked for nvJPEG, for a CPU decoder that ran out of files (--decode
  // auto): at the end of a run nvJPEG's queue is the last work left. nullopt when none waits.
  std::optional<CheckedJpeg> TakeCheckedJpeg();
  // A JPEG nvJPEG refused, for any CPU decoder before its next file; nullopt when none waits.
  std::optional<CheckedJpeg> TakeRefusedJpeg();

 private:
  std::vector<size_t> jpegs_, others_;  // indices into pending (jpegs_ only with GPU decoders)
  std::atomic<size_t> next_jpeg_{0}, next_other_{0};
};

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_RUN_CONTEXT_H_
