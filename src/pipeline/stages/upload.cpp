#include "pipeline/stages/upload.h"

#include <spdlog/spdlog.h>

#include <utility>

namespace mediadex::pipeline {
namespace {

// CPU-prepared inputs a GPU's upload thread moves in one go, at most: those waiting, since
// every CUDA call may wait ~2 ms for nvJPEG's decode (docs/performance.md).
constexpr size_t kUploadsTogether = 32;

}  // namespace

void RunUploader(RunContext& run, size_t lane) {
  const ThreadCpuTime cpu(run.stats.cpu_used.upload);
  const model::Detector& detector = *run.lanes[lane];
  MemoryBudget* gpu_memory = run.GpuMemoryOf(detector);  // none: the device shares the host's
  while (true) {
    std::vector<WorkItem> items = run.uploads[lane]->PopBatch(kUploadsTogether, std::chrono::milliseconds(0));
    if (items.empty()) break;
    std::vector<std::pair<WorkItem*, MemoryLease>> moving;
    std::vector<RgbImage*> images;
    for (WorkItem& item : items) {
      if (!item.has_input() || item.image->form() != RgbImage::Form::kPrepared) continue;
      MemoryLease device;
      if (gpu_memory != nullptr) {
        auto leased = gpu_memory->Acquire(run.footprint.device_input_bytes);
        if (!leased.ok()) continue;
        device = std::move(leased).value();
      }
      moving.emplace_back(&item, std::move(device));
      images.push_back(&*item.image);
    }
    // Where its time goes, the detector logs (-v).
    const Status uploaded = images.empty() ? Status::Ok() : detector.Upload(images);
    for (auto& [item, device] : moving) {
      if (uploaded.ok()) {
        item->host_memory.Release();
        item->device_memory = std::move(device);
      } else {
        spdlog::debug("{}: input left on the host: {}", item->path, uploaded.message());
      }
    }
    for (WorkItem& item : items) run.decoded[lane]->Push(std::move(item));
  }
}

}  // namespace mediadex::pipeline
