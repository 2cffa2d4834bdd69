#include "pipeline/index_run.h"

#include <spdlog/spdlog.h>

#include <future>
#include <thread>
#include <unordered_set>

#include "pipeline/stages/cpu_decode.h"
#include "pipeline/stages/gpu_decode.h"
#include "pipeline/stages/infer.h"
#include "pipeline/stages/upload.h"
#include "pipeline/stages/write.h"

namespace mediadex::pipeline {

Result<std::vector<GpuDecodePlan>> PlanGpuDecoders(const std::vector<const model::Detector*>& detectors,
                                                   JpegDecode mode, int workers_per_gpu) {
  std::vector<GpuDecodePlan> plans;
  if (mode == JpegDecode::kCpu) return plans;
  std::unordered_set<std::string> seen;
  for (const model::Detector* d : detectors) {
    if (!d->device().decodes_jpeg || !seen.insert(d->device().name).second) continue;
    plans.push_back({d, std::max(1, workers_per_gpu)});
  }
  if (plans.empty() && mode == JpegDecode::kGpu) {
    return InvalidArgument("--decode gpu needs the detector on a CUDA device (--device cuda)");
  }
  return plans;
}

Status AnalysePending(const std::vector<const model::Detector*>& detectors, std::vector<GpuDecodePlan> gpu_plans,
                      catalog::Catalog& catalog, const IndexOptions& options, int64_t model_id, int64_t run_id,
                      std::vector<catalog::MediaRow> pending, const MemoryPlan& plan, IndexSummary* summary) {
  RunContext run(detectors, std::move(gpu_plans), options, std::move(pending), plan);
  // The detectors' working memory for a full batch each, held from start to end.
  auto inference_memory = run.budget.AcquireForRun(plan.inference_bytes);
  if (!inference_memory.ok()) return inference_memory.status().WithContext("the detectors' working memory");

  WriteStage write(run, catalog, model_id, run_id);
  GpuDecodeStage gpu_decode(run);
  InferStage infer(run);

  std::thread writer([&] { write.Run(); });
  std::vector<std::thread> decoders;
  for (int i = 0; i < run.decoders_allowed; ++i) decoders.emplace_back([&run, i] { RunCpuDecoder(run, i); });
  // nvJPEG's threads say when they have decoded their last JPEG, then stop nvJPEG while the
  // last batches run through the detector: on the run's path, stopping it (its CUDA context)
  // took the last 0.2-0.3 s of a run (docs/performance.md).
  std::vector<std::promise<void>> gpu_decoding_done(run.gpu_plans.size());
  std::vector<std::thread> gpu_decoders;
  for (size_t i = 0; i < run.gpu_plans.size(); ++i) {
    gpu_decoders.emplace_back([&, i] {
      const GpuDecodePlan& gpu = run.gpu_plans[i];
      const double stopping = gpu_decode.Run(gpu, [&done = gpu_decoding_done[i]] { done.set_value(); });
      spdlog::debug("{}: nvJPEG stopped in {:.2f} s, off the run's path", gpu.detector->device().name, stopping);
    });
  }
  std::vector<std::thread> uploaders;
  for (size_t lane = 0; lane < run.lanes.size(); ++lane) {
    if (run.uploads[lane]) uploaders.emplace_back([&run, lane] { RunUploader(run, lane); });
  }
  std::thread closer([&] {
    for (auto& t : decoders) t.join();
    for (auto& done : gpu_decoding_done) done.get_future().wait();
    run.retrying = true;
    while (auto row = run.retry.PopFor(std::chrono::milliseconds(0))) {
      run.Inbox(0).Push(DecodeImageFile(run, *row, *run.lanes.front()));
    }
    for (auto& queue : run.uploads) {
      if (queue) queue->Close();
    }
    for (auto& t : uploaders) t.join();
    for (auto& queue : run.decoded) queue->Close();
    spdlog::debug("every file decoded {:.2f} s into the run; CPU decoders out of work {:.2f} to {:.2f} s into it",
                  run.stats.elapsed(), run.stats.cpu_decoders_done.first(), run.stats.cpu_decoders_done.last());
  });
  // One inference worker per detector; this thread is the first.
  std::vector<std::thread> inference;
  for (size_t i = 1; i < detectors.size(); ++i) inference.emplace_back([&, i] { infer.Run(*detectors[i]); });
  infer.Run(*detectors.front());
  for (auto& t : inference) t.join();
  closer.join();
  run.results.Close();
  writer.join();
  for (auto& t : gpu_decoders) t.join();

  summary->done = write.done();
  summary->failed = write.failed();
  summary->video_frames = run.video_frames;
  summary->decode_workers = std::max(1, options.concurrency);
  summary->gpu_decoded = run.gpu_decoded;
  summary->gpu_huffman_workers = gpu_decode.huffman_workers_started();
  summary->gpu_huffman_decoded = run.gpu_huffman_decoded;
  summary->gpu_decode_workers = gpu_decode.workers_started();
  summary->gpu_decoder = gpu_decode.backend();
  summary->read_decode_s = run.stats.decode.seconds();
  summary->gpu_decode_s = run.stats.gpu_decode.seconds();
  summary->infer_s = run.stats.infer.seconds();
  summary->write_s = run.stats.write.seconds();
  summary->final_batch_size = run.batch_size;
  summary->budget_bytes = run.budget.limit();
  summary->cancelled = run.Cancelled() && write.status().ok();
  run.stats.LogDetails(summary->gpu_decode_workers > 0);
  if (!write.status().ok()) return write.status();
  return gpu_decode.start_error();
}

}  // namespace mediadex::pipeline
