#include "pipeline/detect_files.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "pipeline/backoff.h"

namespace mediadex::pipeline {
namespace {

struct Decoded {
  std::string path;
  Result<RgbImage> image = Status(StatusCode::kCancelled, "not decoded");
};

std::vector<Decoded> DecodeRange(const model::Detector& detector, const std::vector<std::string>& paths, size_t begin,
                                 size_t end, const media::DecodeOptions& options, int threads) {
  std::vector<Decoded> out(end - begin);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < out.size();) {
      out[i].path = paths[begin + i];
      out[i].image = media::DecodeFile(out[i].path, options);
      // The detector's preprocessing here too, and the upload, on the decode threads (at
      // normal priority: `detect` runs no nvJPEG workers that their CUDA calls could stall).
      if (out[i].image.ok()) {
        Status prepared = detector.Prepare(&*out[i].image);
        if (prepared.ok()) prepared = detector.Upload({&*out[i].image});
        if (!prepared.ok()) out[i].image = prepared;
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

void DetectFiles(const model::Detector& detector, const std::vector<std::string>& paths,
                 const DetectFilesOptions& options, const std::function<void(const FileResult&)>& on_result) {
  const size_t batch = static_cast<size_t>(std::max(1, options.batch_size));
  std::atomic<int> batch_size{static_cast<int>(batch)};  // lowered by the backoff; the chunks stay
  model::DetectOptions detect = options.detect;
  detect.pad_batch_to = static_cast<int>(std::min(batch, paths.size()));  // one batch shape on a GPU
  const int threads = options.decode_threads > 0 ? options.decode_threads
                                                 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto decode = [&](size_t begin) {
    return DecodeRange(detector, paths, begin, std::min(paths.size(), begin + batch), options.decode, threads);
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
  }
}

}  // namespace mediadex::pipeline
