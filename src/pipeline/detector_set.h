// The detectors of a run and where they run: one per CUDA GPU named (`cuda` = all, `cuda:0,1`
// those), or on the CPU with --threads 0 one single-threaded worker per core sharing one
// detector; each GPU's nvJPEG started while its model loads, and its network warmed up at the
// run's batch shape before the decoders take the CPUs. `index`, `serve`, the worker and the
// benchmarks build their runs with it.
//
//   auto detectors = pipeline::DetectorSet::Open({.device = choice.device, .request = "cuda",
//                                                 .load = load_model, .warm_up_batch = 64});
//   pipeline::RunIndex(detectors->workers(), catalog, options);
#ifndef MEDIADEX_PIPELINE_DETECTOR_SET_H_
#define MEDIADEX_PIPELINE_DETECTOR_SET_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/device.h"
#include "engine/gpu_jpeg.h"
#include "model/detector.h"

namespace mediadex::pipeline {

struct DetectorSetOptions {
  engine::DeviceInfo device;  // the device picked for the run (engine::PickDevice)
  std::string request;        // --device as given: "cuda" or "cuda:0,1" spread over those GPUs
  int threads = 0;            // --threads; 0 on the CPU: one single-threaded worker per core
  // Loads the model onto one device (precision and model path are the caller's).
  std::function<Result<std::unique_ptr<model::Detector>>(const engine::DeviceInfo&)> load;
  int warm_up_batch = 0;      // the run's batch size; 0: no warm-up
  bool start_nvjpeg = false;  // --decode gpu|auto
};

// Owns the detectors (and the nvJPEG start-ups) for as long as the run uses them.
class DetectorSet {
 public:
  // Errors: those of CudaDevicesFor and of `load`.
  static Result<DetectorSet> Open(const DetectorSetOptions& options);

  // One entry per inference worker (several may share one detector).
  const std::vector<const model::Detector*>& workers() const { return workers_; }
  const std::vector<engine::DeviceInfo>& devices() const { return devices_; }
  std::string device_names() const;  // "cuda:0,cuda:1"

 private:
  std::vector<engine::DeviceInfo> devices_;
  std::vector<std::unique_ptr<engine::GpuJpegDecoder::BackgroundStart>> nvjpeg_starting_;
  std::vector<std::unique_ptr<model::Detector>> owned_;
  std::vector<const model::Detector*> workers_;
};

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_DETECTOR_SET_H_
