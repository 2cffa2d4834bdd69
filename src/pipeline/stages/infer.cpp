#include "pipeline/stages/infer.h"

#include "pipeline/backoff.h"

namespace mediadex::pipeline {

using Clock = std::chrono::steady_clock;

void InferStage::Run(const model::Detector& detector) {
  const ThreadCpuTime cpu(run_.stats.cpu_used.inference);
  BoundedQueue<WorkItem>& decoded = *run_.decoded[run_.LaneOf(&detector)];
  while (true) {
    const auto waiting = Clock::now();
    // What is ready; not waiting long for stragglers.
    std::vector<WorkItem> batch =
        decoded.PopBatch(static_cast<size_t>(run_.batch_size.load()), std::chrono::milliseconds(20));
    if (batch.empty()) break;
    run_.stats.infer_wait.Add(waiting);
    const auto start = Clock::now();
    std::vector<catalog::MediaResult> out;
    DetectItems(detector, batch, &out);
    run_.stats.infer.Add(start);
    if (!out.empty()) run_.results.Push(std::move(out));
  }
}

void InferStage::DetectItems(const model::Detector& detector, std::vector<WorkItem>& batch,
                             std::vector<catalog::MediaResult>* out) {
  std::vector<const RgbImage*> images;
  for (const WorkItem& item : batch) {
    if (item.has_input()) images.push_back(&*item.image);
  }
  Result<std::vector<std::vector<Detection>>> detections = std::vector<std::vector<Detection>>{};
  if (!images.empty()) {
    model::DetectOptions options = run_.options.detect;
    options.pad_batch_to = run_.batch_size;  // one batch shape on a GPU, whatever the batcher found
    detections = DetectWithBackoff(detector, images, options, &run_.batch_size);
  }
  size_t k = 0;
  for (WorkItem& item : batch) {
    std::vector<Detection> found;
    const bool inferred = item.has_input();
    if (inferred) {
      if (detections.ok()) {
        found = std::move(detections->at(k));
      } else {
        item.status = detections.status();
      }
      ++k;
    }
    item.DropImage();
    if (item.is_video) {
      if (inferred) ++run_.video_frames;
      if (auto video = AddFrame(item, std::move(found))) out->push_back(std::move(*video));
      continue;
    }
    catalog::MediaResult r = std::move(item.meta);
    r.media_id = item.media_id;
    r.ok = item.status.ok();
    if (!r.ok) r.error = item.status.message();
    for (auto& d : found) r.detections.push_back({std::move(d), -1});
    out->push_back(std::move(r));
  }
}

std::optional<catalog::MediaResult> InferStage::AddFrame(WorkItem& frame, std::vector<Detection> found) {
  MutexLock lock(videos_mutex_);
  VideoAccumulator& acc = videos_[frame.media_id];
  ++acc.received;
  if (frame.last_frame) acc.expected = frame.frame_index + 1;
  if (!acc.failed && !frame.status.ok()) {
    acc.failed = true;
    acc.error = frame.status.message();
  }
  for (auto& d : found) acc.detections.push_back({std::move(d), frame.time_s});
  if (acc.received != acc.expected) return std::nullopt;
  catalog::MediaResult r = std::move(frame.meta);
  r.media_id = frame.media_id;
  r.ok = !acc.failed;
  r.error = acc.error;
  r.detections = std::move(acc.detections);
  videos_.erase(frame.media_id);
  return r;
}

}  // namespace mediadex::pipeline
