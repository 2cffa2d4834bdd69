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
#include "pipeline/batch_memory.h"

namespace mediadex::pipeline {
namespace {

// As the indexer measured (indexer.cpp): inference on the host takes ~96 bytes per input pixel
// and image, doubled for headroom; the runtime's own slack is outside every budget.
constexpr uint64_t kInferenceBytesPerInputPixel = 192;
constexpr uint64_t kRuntimeSlackBytes = 96ull << 20;
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
  const auto& info = detector.info();
  const uint64_t held = d->image->prepared
                            ? static_cast<uint64_t>(info.input_width) * info.input_height * 3 * sizeof(float)
                            : d->image->pixels.size();
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

// One forward pass for the batch; when the device runs out of memory, one image at a time.
Result<std::vector<std::vector<Detection>>> DetectBatch(const model::Detector& detector,
                                                        const std::vector<const RgbImage*>& images,
                                                        const model::DetectOptions& options) {
  auto results = detector.Detect(images, options);
  if (results.ok() || results.status().code() != StatusCode::kOutOfMemory || images.size() < 2) {
    return results;
  }
  spdlog::warn("{}; retrying this batch of {} one image at a time", results.status().message(), images.size());
  std::vector<std::vector<Detection>> one_by_one;
  for (const RgbImage* image : images) {
    auto single = detector.Detect({image}, options);
    if (!single.ok()) return single.status();
    one_by_one.push_back(std::move(single->front()));
  }
  return one_by_one;
}

}  // namespace

Status DetectFiles(const model::Detector& detector, const std::vector<std::string>& paths,
                   const DetectFilesOptions& options, const std::function<void(const FileResult&)>& on_result) {
  size_t batch = static_cast<size_t>(std::max(1, options.batch_size));
  uint64_t budget = 0;  // no limit
  uint64_t infer_bytes = 0;
  if (options.max_memory > 0) {
    const uint64_t resident = CurrentRssBytes();
    if (options.max_memory <= resident + kRuntimeSlackBytes) {
      return InvalidArgument("--max-memory " + FormatBytes(options.max_memory) +
                             " is below what the runtime and model " + "already use (" + FormatBytes(resident) + " + " +
                             FormatBytes(kRuntimeSlackBytes) + " slack)");
    }
    budget = options.max_memory - resident - kRuntimeSlackBytes;
    // A CUDA detector works in its GPU's memory; elsewhere its working memory is RSS: a batch's
    // worth is reserved up front (half the budget at most; the batch shrinks to fit).
    if (detector.device().kind != engine::DeviceKind::kCuda) {
      const uint64_t per_image = static_cast<uint64_t>(detector.info().input_width) * detector.info().input_height *
                                 kInferenceBytesPerInputPixel;
      const size_t fits = static_cast<size_t>(budget / 2 / std::max<uint64_t>(1, per_image));
      if (fits < 1)
        return InvalidArgument("--max-memory " + FormatBytes(options.max_memory) +
                               " is too small for even one image in the detector");
      if (fits < batch)
        spdlog::info("batch size {} -> {} to fit --max-memory {}", batch, fits, FormatBytes(options.max_memory));
      batch = std::min(batch, fits);
      infer_bytes = per_image * batch;
    }
  }
  BatchMemory memory(budget);
  if (!memory.Reserve(infer_bytes)) return InvalidArgument("--max-memory is too small for the detector");
  model::DetectOptions detect = options.detect;
  detect.pad_batch_to = static_cast<int>(std::min(batch, paths.size()));  // one batch shape on a GPU
  const int threads = options.decode_threads > 0 ? options.decode_threads
                                                 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
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
    auto results = DetectBatch(detector, images, detect);
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
