#include "pipeline/detect_files.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "core/config.h"
#include "core/memory.h"
#include "media/media_file.h"
#include "media/probe.h"
#include "pipeline/backoff.h"
#include "pipeline/batch_memory.h"
#include "pipeline/memory_plan.h"

namespace mediadex::pipeline {
namespace {

// Enough of a file to know its format (SniffFormat needs at most a few dozen bytes).
constexpr size_t kSniffBytes = 64;

struct Decoded {
  std::string path;
  Result<RgbImage> image = Status(StatusCode::kCancelled, "not decoded");
  uint64_t held = 0;  // of the memory budget, until the batch is reported
};

// Reads, checks and decodes one file inside the budget, then runs the detector's preprocessing
// (and its upload) on this thread. On failure d->image says why.
void DecodeOne(const model::Detector& detector, const media::DecodeOptions& options, BatchMemory& memory, Decoded* d) {
  auto fail = [&](const Status& status) { d->image = status; };
  auto file = media::MediaFile::Open(d->path);
  if (!file.ok()) return fail(file.status());
  // An unknown format is refused from its first bytes: a 2 GiB file of zeros is not read.
  auto head = file->ReadHead(kSniffBytes);
  if (!head.ok()) return fail(head.status());
  if (media::SniffFormat(head->data(), head->size()) == media::ImageFormat::kUnknown) {
    return fail(media::DecodeImage(head->data(), head->size(), options).status());
  }
  const uint64_t size = file->size();
  if (Status s = memory.Acquire(size); !s.ok()) {
    return fail(InvalidArgument("reading the file " + s.message()));
  }
  auto bytes = file->ReadAll();
  auto probed = bytes.ok() ? media::ProbeImage(bytes->data(), bytes->size(), options) : bytes.status();
  if (!probed.ok()) {
    memory.Release(size);
    return fail(probed.status());
  }
  const uint64_t scratch = probed->decode_bytes;
  if (!memory.TryAcquire(scratch)) {
    // Wait holding nothing (two decoders each holding their file and waiting for the other's
    // would wait forever), then read the file again.
    bytes = std::vector<uint8_t>();
    memory.Release(size);
    if (Status s = memory.Acquire(size + scratch); !s.ok()) {
      return fail(InvalidArgument("decoding (with the file's bytes) " + s.message()));
    }
    bytes = file->ReadAll();
    if (!bytes.ok()) {
      memory.Release(size + scratch);
      return fail(bytes.status());
    }
  }
  d->image = media::DecodeImage(bytes->data(), bytes->size(), options);
  bytes = std::vector<uint8_t>();
  memory.Release(size);
  if (!d->image.ok()) {
    memory.Release(scratch);
    return;
  }
  Status prepared = detector.Prepare(&*d->image);
  if (prepared.ok()) prepared = detector.Upload({&*d->image});
  const uint64_t held =
      d->image->form() == RgbImage::Form::kPrepared ? detector.footprint().host_input_bytes : d->image->pixels.size();
  if (prepared.ok() && held > scratch && !memory.TryAcquire(held - scratch)) {
    prepared = InvalidArgument("the prepared image (" + FormatBytes(held) + ") does not fit --max-memory");
  }
  if (!prepared.ok()) {
    memory.Release(scratch);
    return fail(prepared);
  }
  if (held < scratch) memory.Release(scratch - held);
  memory.Pin(held);
  d->held = held;
}

std::vector<Decoded> DecodeRange(const model::Detector& detector, const std::vector<std::string>& paths, size_t begin,
                                 size_t end, const media::DecodeOptions& options, int threads, BatchMemory& memory) {
  memory.NextBatch();  // the previous batch is complete: what it holds comes back once reported
  std::vector<Decoded> out(end - begin);
  std::atomic<size_t> next{0};
  auto work = [&] {
    // At normal priority: `detect` runs no nvJPEG workers that the uploads' CUDA calls could stall.
    for (size_t i; (i = next.fetch_add(1)) < out.size();) {
      out[i].path = paths[begin + i];
      try {
        DecodeOne(detector, options, memory, &out[i]);
      } catch (const std::bad_alloc&) {
        out[i].image = OutOfMemory("allocation failed while decoding");
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min<int>(threads, static_cast<int>(out.size())); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return out;
}

}  // namespace

Status DetectFiles(const model::Detector& detector, const std::vector<std::string>& paths,
                   const DetectFilesOptions& options, const std::function<void(const FileResult&)>& on_result) {
  size_t batch = static_cast<size_t>(std::max(1, options.batch_size));
  uint64_t budget = 0;  // no limit
  uint64_t infer_bytes = 0;
  if (options.max_memory > 0) {
    // The indexer's plan: the budget, the batch that fits it, the detector's share.
    auto plan = PlanMemory({&detector}, static_cast<int>(batch), options.max_memory, CurrentRssBytes());
    if (!plan.ok()) return plan.status();
    budget = plan->host_budget;
    batch = std::min(batch, static_cast<size_t>(plan->batch_size));
    infer_bytes = plan->inference_bytes;
  }
  BatchMemory memory(budget);
  if (!memory.Reserve(infer_bytes)) return InvalidArgument("--max-memory is too small for the detector");
  model::DetectOptions detect = options.detect;
  detect.pad_batch_to = static_cast<int>(std::min(batch, paths.size()));  // one batch shape on a GPU
  const int threads = options.decode_threads > 0 ? options.decode_threads
                                                 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::atomic<int> batch_size{static_cast<int>(batch)};  // lowered by the backoff; the chunks stay
  auto decode = [&](size_t begin) {
    return DecodeRange(detector, paths, begin, std::min(paths.size(), begin + batch), options.decode, threads, memory);
  };
  std::future<std::vector<Decoded>> pending;
  if (!paths.empty()) pending = std::async(std::launch::async, decode, 0);
  for (size_t begin = 0; begin < paths.size(); begin += batch) {
    std::vector<Decoded> chunk = pending.get();
    // Decode the next batch while this one runs on the device.
    if (begin + batch < paths.size()) pending = std::async(std::launch::async, decode, begin + batch);

    std::vector<const RgbImage*> images;
    for (auto& d : chunk) {
      if (d.image.ok()) images.push_back(&d.image.value());
    }
    auto results = DetectWithBackoff(detector, images, detect, &batch_size);
    size_t k = 0;
    for (auto& d : chunk) {
      FileResult r;
      r.path = d.path;
      if (!d.image.ok()) {
        r.status = d.image.status();
      } else {
        r.width = d.image->full_width;
        r.height = d.image->full_height;
        if (results.ok()) {
          r.detections = std::move(results->at(k++));
        } else {
          r.status = results.status();
        }
      }
      on_result(r);
    }
    uint64_t held = 0;
    for (auto& d : chunk) held += d.held;
    chunk.clear();
    memory.Release(held);
  }
  if (budget > 0)
    spdlog::debug("detect: peak {} of a {} budget for images and inference", FormatBytes(memory.peak()),
                  FormatBytes(budget));
  return Status::Ok();
}

}  // namespace mediadex::pipeline
