// GPU decode stage, per GPU: feeder threads read and check JPEGs, nvJPEG workers decode them
// in batches on the GPU and prepare the detector's input there.
//
// Beside them, GPU Huffman workers (--gpu-huffman-workers) decode checked files with nvJPEG's
// GPU_HYBRID decoder, whose Huffman stage runs on the CUDA cores: a second decoder on the GPU
// where the hardware engine is the wall on big camera JPEGs.
//
// One thread per GPU takes nvJPEG's context there (started while the model loaded, see
// GpuJpegDecoder::StartInBackground) and starts the plan's nvJPEG workers and the feeders,
// which share it. nvJPEG's batched decode returns only when its batch is nearly done, and the
// GPU's one hardware decoder serves a call at a time, so the feeders read, hash and check the
// next files meanwhile: the decoder never waits for files. If nvJPEG cannot start, --decode
// auto leaves the JPEGs to the CPU decoders; --decode gpu fails the run.
//
// Takes: JPEG rows from RunContext::NextRow(gpu). Gives: WorkItems with inputs on the GPU
// (leasing that GPU's budget) to decoded[lane]; what nvJPEG refuses, decoded on the CPU, to
// Inbox(lane).
#ifndef MEDIADEX_PIPELINE_STAGES_GPU_DECODE_H_
#define MEDIADEX_PIPELINE_STAGES_GPU_DECODE_H_

#include <atomic>
#include <functional>
#include <string>

#include "core/thread_annotations.h"
#include "pipeline/run_context.h"

namespace mediadex::pipeline {

class GpuDecodeStage {
 public:
  explicit GpuDecodeStage(RunContext& run) : run_(run) {}

  // On a thread of its own for `plan`'s GPU. Calls `decoded_all` once no JPEG is left for it
  // (also when nvJPEG did not start), then stops nvJPEG there; returns the seconds that took.
  double Run(const GpuDecodePlan& plan, const std::function<void()>& decoded_all);

  int workers_started() const;          // batched nvJPEG workers, all GPUs
  int huffman_workers_started() const;  // GPU Huffman workers beside them
  std::string backend() const;          // nvJPEG's ("hardware", "cuda"); empty when none started
  Status start_error() const;           // --decode gpu only: why nvJPEG did not start

 private:
  void Feed(engine::GpuJpegDecoder& checker, const model::Detector& detector, BoundedQueue<CheckedJpeg>& checked);
  void DecodeBatches(engine::GpuJpegDecoder& decoder, const model::Detector& detector,
                     BoundedQueue<CheckedJpeg>& checked, size_t max_batch);

  RunContext& run_;
  mutable Mutex mutex_;
  int workers_started_ GUARDED_BY(mutex_) = 0;
  int huffman_workers_started_ GUARDED_BY(mutex_) = 0;
  std::string backend_ GUARDED_BY(mutex_);
  Status start_error_ GUARDED_BY(mutex_);
  std::atomic<bool> first_batch_logged_{false};
};

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_STAGES_GPU_DECODE_H_
