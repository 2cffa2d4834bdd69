#include "pipeline/detector_set.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <thread>

namespace mediadex::pipeline {

Result<DetectorSet> DetectorSet::Open(const DetectorSetOptions& options) {
  DetectorSet set;
  set.devices_ = {options.device};
  int cpu_workers = 1;
  if (options.device.kind == engine::DeviceKind::kCuda && options.request.rfind("cuda", 0) == 0) {
    auto cuda = engine::CudaDevicesFor(options.request);
    if (!cuda.ok()) return cuda.status();
    set.devices_.clear();
    // One at a time, before any other thread allocates on them (engine::OpenDevice).
    for (const auto& device : *cuda) set.devices_.push_back(engine::OpenDevice(device));
  } else if (options.device.kind == engine::DeviceKind::kCpu && options.threads == 0) {
    // Images in parallel scale better than one image over several OpenMP threads, and no
    // thread spins (docs/performance.md).
    cpu_workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    engine::SetCpuThreads(1);
  }
  // nvJPEG starts on each GPU while the models load there (each takes most of a second).
  if (options.start_nvjpeg) {
    for (const auto& device : set.devices_)
      set.nvjpeg_starting_.push_back(engine::GpuJpegDecoder::StartInBackground(device));
  }
  for (const auto& device : set.devices_) {
    auto detector = options.load(device);
    if (!detector.ok()) return detector.status();
    set.owned_.push_back(std::move(detector).value());
  }
  if (options.warm_up_batch > 0) {
    std::vector<std::future<void>> warming;
    for (const auto& detector : set.owned_) {
      warming.push_back(std::async(std::launch::async, [&detector, batch = options.warm_up_batch] {
        const auto start = std::chrono::steady_clock::now();
        const Status warmed = detector->WarmUp(batch);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!warmed.ok()) {
          spdlog::info("{}: warm-up failed ({}); the first batch does it", detector->device().name, warmed.message());
        } else if (seconds > 0.01) {
          spdlog::debug("{}: network warmed up at batch {} in {:.2f} s", detector->device().name, batch, seconds);
        }
      }));
    }
    for (auto& w : warming) w.wait();
  }
  for (const auto& d : set.owned_) set.workers_.push_back(d.get());
  while (static_cast<int>(set.workers_.size()) < cpu_workers) set.workers_.push_back(set.owned_.front().get());
  if (set.workers_.size() > 1) spdlog::info("{} inference workers", set.workers_.size());
  return set;
}

std::string DetectorSet::device_names() const {
  std::string names;
  for (const auto& d : devices_) names += (names.empty() ? "" : ",") + d.name;
  return names;
}

}  // namespace mediadex::pipeline
