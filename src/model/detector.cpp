// Picks the detector implementation from the model file.
#include "model/detector.h"

#include <ATen/ATen.h>

#include <cstring>
#include <filesystem>

#include "engine/gpu_runtime.h"
#include "engine/torch_device.h"
#include "model/centernet_detector.h"
#include "model/torchscript/yolo_detector.h"

namespace mediadex::model {

Result<std::unique_ptr<Detector>> LoadDetector(const ModelSpec& spec,
                                               const engine::DeviceInfo& device) {
  const std::filesystem::path path(spec.path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound(spec.path + ": model file not found (run scripts/fetch-model.sh, or pass --model)");
  }
  const std::string ext = path.extension().string();
  if (ext == ".json") return LoadCenternetDetector(spec, device);
  if (ext == ".torchscript" || ext == ".pt" || ext == ".ts") return LoadYoloDetector(spec.path, device);
  return Unsupported(spec.path +
                     ": unknown model format (expected a TF.js model.json or a .torchscript file)");
}

Status Detector::Prepare(RgbImage* image) const {
  if (!image->device_pixels) return Status::Ok();
  return engine::CatchTorch("copying GPU-decoded pixels to the host", [&] {
    const at::Tensor host = engine::Upright(*image->device_pixels).to(at::kCPU).contiguous();
    image->pixels.resize(static_cast<size_t>(host.numel()));
    std::memcpy(image->pixels.data(), host.data_ptr<uint8_t>(), image->pixels.size());
    image->device_pixels.reset();
  });
}

}  // namespace mediadex::model
