#include "pipeline/stages/gpu_decode.h"

#include <spdlog/spdlog.h>

#include <thread>

#include "pipeline/stages/cpu_decode.h"

namespace mediadex::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// Threads per GPU that read, hash and check (GpuJpegDecoder::Check) the JPEGs for its nvJPEG
// workers: ~1 ms a 4 MB file, where the hardware decoder takes ~1.4 ms.
constexpr size_t kGpuFeeders = 2;

// Files a GPU Huffman worker takes at a time. It decodes them one by one, so a small batch keeps
// the hardware engine's share (whatever it takes while this one is busy) adaptive.
constexpr size_t kGpuHuffmanBatch = 8;

}  // namespace

int GpuDecodeStage::workers_started() const {
  MutexLock lock(mutex_);
  return workers_started_;
}

int GpuDecodeStage::huffman_workers_started() const {
  MutexLock lock(mutex_);
  return huffman_workers_started_;
}

std::string GpuDecodeStage::backend() const {
  MutexLock lock(mutex_);
  return backend_;
}

Status GpuDecodeStage::start_error() const {
  MutexLock lock(mutex_);
  return start_error_;
}

double GpuDecodeStage::Run(const GpuDecodePlan& plan, const std::function<void()>& decoded_all) {
  const engine::DeviceInfo& device = plan.detector->device();
  BoundedQueue<CheckedJpeg>& checked = *run_.checked[run_.LaneOf(plan.detector)];
  std::vector<std::unique_ptr<engine::GpuJpegDecoder>> decoders;  // the workers', then the feeders'
  auto first = engine::GpuJpegDecoder::Create(device);
  for (int i = 1; first.ok() && i < plan.workers + static_cast<int>(kGpuFeeders); ++i) {
    auto another = (*first)->AnotherWorker();
    if (!another.ok()) {
      first = another.status();
      break;
    }
    decoders.push_back(std::move(another).value());
  }
  {
    MutexLock lock(mutex_);
    if (!first.ok()) {
      checked.Close();
      if (run_.options.jpeg_decode == JpegDecode::kGpu) {
        if (start_error_.ok()) start_error_ = first.status().WithContext("--decode gpu");
      } else {
        spdlog::info("{}: JPEGs are decoded on the CPU ({})", device.name, first.status().message());
      }
      decoded_all();
      return 0;
    }
    decoders.insert(decoders.begin(), std::move(first).value());
    workers_started_ += plan.workers;
    backend_ = decoders.front()->backend();
  }
  // Beside the batched decoder, the GPU Huffman workers take the same checked files: each
  // decoder takes more as soon as it is free, so their shares follow their rates in this run.
  std::vector<std::unique_ptr<engine::GpuJpegDecoder>> huffman;
  for (int i = 0; i < run_.options.gpu_huffman_workers; ++i) {
    auto worker = decoders.front()->AnotherWorker(engine::GpuJpegEngine::kGpuHuffman);
    if (!worker.ok()) {
      spdlog::info("{}: no GPU Huffman decoding beside nvJPEG's {} backend ({})", device.name, backend(),
                   worker.status().message());
      break;
    }
    huffman.push_back(std::move(worker).value());
  }
  {
    MutexLock lock(mutex_);
    huffman_workers_started_ += static_cast<int>(huffman.size());
  }
  spdlog::debug("{}: {} nvJPEG workers, {} GPU Huffman workers and {} feeders ready {:.2f} s into the run", device.name,
                plan.workers, huffman.size(), kGpuFeeders, run_.stats.elapsed());
  std::atomic<size_t> feeding{kGpuFeeders};
  std::vector<std::thread> threads;
  for (auto& worker : huffman) {
    threads.emplace_back([&, decoder = worker.get()] {
      const ThreadCpuTime cpu(run_.stats.cpu_used.nvjpeg_workers);
      DecodeBatches(*decoder, *plan.detector, checked, kGpuHuffmanBatch);
    });
  }
  for (size_t i = 0; i < decoders.size(); ++i) {
    threads.emplace_back([&, i] {
      if (i < static_cast<size_t>(plan.workers)) {
        const ThreadCpuTime cpu(run_.stats.cpu_used.nvjpeg_workers);
        return DecodeBatches(*decoders[i], *plan.detector, checked, static_cast<size_t>(run_.batch_size.load()));
      }
      {
        const ThreadCpuTime cpu(run_.stats.cpu_used.nvjpeg_feeders);
        Feed(*decoders[i], *plan.detector, checked);
      }
      if (--feeding == 0) checked.Close();
    });
  }
  for (auto& t : threads) t.join();
  decoded_all();
  const auto stopping = Clock::now();
  huffman.clear();
  decoders.clear();
  return std::chrono::duration<double>(Clock::now() - stopping).count();
}

// A feeder: takes the next JPEG, reads and checks it, and hands it to the workers if nvJPEG
// takes it. Files that are no JPEG inside or that nvJPEG refuses (progressive on the hardware
// decoder, CMYK, damaged...) go to the CPU decoders, quietly; the feeder decodes one itself
// only when they have not taken the last ones, and at the end, the ones still waiting.
// (A feeder that decoded each refused file held the hardware engine to a third of its rate on
// a library with one progressive JPEG in nine: docs/performance.md.)
void GpuDecodeStage::Feed(engine::GpuJpegDecoder& checker, const model::Detector& detector,
                          BoundedQueue<CheckedJpeg>& checked) {
  RunStats& stats = run_.stats;
  const size_t lane = run_.LaneOf(&detector);
  for (const catalog::MediaRow* row; !run_.Cancelled() && (row = run_.NextRow(true));) {
    CheckedJpeg jpeg;
    auto start = Clock::now();
    jpeg.item = ReadImageFile(run_, *row, &jpeg.bytes, &jpeg.info);
    stats.gpu_phases.read.Add(start);
    start = Clock::now();
    jpeg.input = {jpeg.bytes.data.data(), jpeg.bytes.data.size(), jpeg.info.orientation};
    const Status nvjpeg_takes = !jpeg.item.status.ok()                          ? jpeg.item.status
                                : jpeg.info.format != media::ImageFormat::kJpeg ? Unsupported("not a JPEG inside")
                                                                                : checker.Check(&jpeg.input);
    stats.gpu_phases.check.Add(start);
    if (nvjpeg_takes.ok()) {
      start = Clock::now();
      checked.Push(std::move(jpeg));  // moving the bytes keeps their buffer, which input points into
      stats.gpu_phases.queue_full.Add(start);
      continue;
    }
    if (jpeg.item.status.ok()) {
      spdlog::debug("{}: decoded on the CPU: {}", jpeg.item.path, nvjpeg_takes.message());
      if (run_.refused[lane]->TryPush(jpeg)) continue;
      start = Clock::now();
      DecodeOnCpu(run_, &jpeg.item, &jpeg.bytes, jpeg.info, detector);
      stats.gpu_phases.cpu.Add(start);
    }
    run_.Inbox(lane).Push(std::move(jpeg.item));
  }
  // What this feeder handed over and no CPU decoder took: every feeder drains after its own last hand-over.
  while (!run_.Cancelled()) {
    std::optional<CheckedJpeg> jpeg = run_.refused[lane]->PopFor(std::chrono::milliseconds(0));
    if (!jpeg) break;
    const auto start = Clock::now();
    DecodeOnCpu(run_, &jpeg->item, &jpeg->bytes, jpeg->info, detector);
    stats.gpu_phases.cpu.Add(start);
    run_.Inbox(lane).Push(std::move(jpeg->item));
  }
}

// An nvJPEG worker: decodes what the feeders checked on its GPU, in batches of up to the batch
// size (as far as their pixels fit the GPU's share; the rest, and what nvJPEG still refuses, on
// the CPU here), and prepares them there.
void GpuDecodeStage::DecodeBatches(engine::GpuJpegDecoder& decoder, const model::Detector& detector,
                                   BoundedQueue<CheckedJpeg>& checked, size_t max_batch) {
  const bool gpu_huffman = decoder.backend() == "gpu-huffman";
  RunStats& stats = run_.stats;
  MemoryBudget& gpu_memory = *run_.GpuMemoryOf(detector);
  const uint64_t input_bytes = run_.footprint.device_input_bytes;
  const size_t lane = run_.LaneOf(&detector);
  while (true) {
    // What the feeders have ready, and what they bring while the batch fills.
    const auto waiting = Clock::now();
    std::vector<CheckedJpeg> batch = checked.PopBatch(std::min(max_batch, static_cast<size_t>(run_.batch_size.load())),
                                                      std::chrono::milliseconds(2));
    stats.gpu_phases.starved.Add(waiting);
    if (batch.empty()) {
      spdlog::debug("{}: nvJPEG worker out of JPEGs {:.2f} s into the run", detector.device().name, stats.elapsed());
      break;
    }
    if (run_.Cancelled()) continue;  // not analysed: they stay pending for the next run
    const auto start = Clock::now();
    const auto device_bytes = [&](size_t k) {
      return static_cast<uint64_t>(batch[k].info.width) * batch[k].info.height * 3 + input_bytes;
    };
    size_t fit = 0;  // the first `fit` go to nvJPEG
    uint64_t fit_bytes = 0;
    while (fit < batch.size() && fit_bytes + device_bytes(fit) <= gpu_memory.limit()) fit_bytes += device_bytes(fit++);
    auto leased = gpu_memory.Acquire(fit_bytes);
    if (!leased.ok()) fit = 0;
    MemoryLease batch_memory = leased.ok() ? std::move(leased).value() : MemoryLease();
    std::vector<engine::GpuJpegDecoder::Input> inputs;
    for (size_t k = 0; k < fit; ++k) inputs.push_back(batch[k].input);
    std::vector<Result<RgbImage>> decoded = decoder.Decode(inputs);
    auto phase = Clock::now();
    stats.gpu_phases.nvjpeg.Add(start);
    if (!first_batch_logged_.exchange(true)) {
      spdlog::debug("{}: first nvJPEG batch ({} files, taken {:.2f} s into the run) decoded {:.2f} s into the run",
                    detector.device().name, fit, std::chrono::duration<double>(start - stats.start).count(),
                    stats.elapsed());
    }
    std::vector<bool> done(batch.size(), false);
    for (size_t k = 0; k < fit; ++k) {
      WorkItem& item = batch[k].item;
      // The pixels go back to the GPU's allocator once prepared; the input stays until inference.
      MemoryLease input = batch_memory.Split(device_bytes(k));
      input.ShrinkTo(input_bytes);
      if (!decoded[k].ok()) {
        spdlog::debug("{}: decoded on the CPU: {}", item.path, decoded[k].status().message());
        continue;
      }
      batch[k].bytes.Release();
      item.image = std::move(decoded[k]).value();
      const Status prepared = detector.Prepare(&*item.image);  // queued on its GPU; no host memory held
      if (prepared.ok()) {
        item.device_memory = std::move(input);
      } else {
        item.Fail(prepared);
      }
      ++run_.gpu_decoded;
      if (gpu_huffman) ++run_.gpu_huffman_decoded;
      done[k] = true;
    }
    stats.gpu_phases.prepare.Add(phase);
    phase = Clock::now();
    uint64_t bytes_held = 0;  // by this batch's files still to decode here
    for (const CheckedJpeg& jpeg : batch) bytes_held += jpeg.bytes.memory.bytes();
    for (size_t k = 0; k < batch.size(); ++k) {
      if (done[k] || !batch[k].item.status.ok()) continue;
      bytes_held -= batch[k].bytes.memory.bytes();
      DecodeOnCpu(run_, &batch[k].item, &batch[k].bytes, batch[k].info, detector, bytes_held);
    }
    stats.gpu_phases.cpu.Add(phase);
    stats.gpu_decode.Add(start);
    for (size_t k = 0; k < batch.size(); ++k)
      (done[k] ? *run_.decoded[lane] : run_.Inbox(lane)).Push(std::move(batch[k].item));
  }
}

}  // namespace mediadex::pipeline
