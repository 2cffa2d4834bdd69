#include "pipeline/backoff.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace mediadex::pipeline {

Result<std::vector<std::vector<Detection>>> DetectWithBackoff(const model::Detector& detector,
                                                              const std::vector<const RgbImage*>& images,
                                                              const model::DetectOptions& options,
                                                              std::atomic<int>* batch_size) {
  auto result = detector.Detect(images, options);
  if (result.ok() || result.status().code() != StatusCode::kOutOfMemory || images.size() < 2) return result;
  const size_t half = (images.size() + 1) / 2;
  int current = batch_size->load();
  while (current > static_cast<int>(half) && !batch_size->compare_exchange_weak(current, static_cast<int>(half))) {
  }
  if (current > static_cast<int>(half)) {
    spdlog::warn("out of memory in the detector ({}); batch size now {}", result.status().message(), half);
  }
  model::DetectOptions smaller = options;  // one batch shape on a GPU: the new one
  if (smaller.pad_batch_to > 0) smaller.pad_batch_to = static_cast<int>(half);
  std::vector<std::vector<Detection>> all;
  for (size_t begin = 0; begin < images.size(); begin += half) {
    const std::vector<const RgbImage*> part(images.begin() + begin,
                                            images.begin() + std::min(images.size(), begin + half));
    auto sub = DetectWithBackoff(detector, part, smaller, batch_size);
    if (!sub.ok()) return sub.status();
    for (auto& d : *sub) all.push_back(std::move(d));
  }
  return all;
}

}  // namespace mediadex::pipeline
