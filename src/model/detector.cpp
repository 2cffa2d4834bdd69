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

Footprint Detector::footprint() const {
  const uint64_t input_pixels = static_cast<uint64_t>(info().input_width) * info().input_height;
  Footprint f;
  f.host_input_bytes = input_pixels * 3 * sizeof(float);
  // LibTorch's CUDA allocator rounds blocks up; budgeting at the next power of two also covers
  // its fragmentation.
  f.device_input_bytes = 1;
  while (f.device_input_bytes < f.host_input_bytes) f.device_input_bytes <<= 1;
  // Measured for CenterNet at 512x512 on CPU (LibTorch 1.13, batch 1..16): RSS grows ~96 bytes
  // per input pixel and image; doubled for headroom (allocator caching, oneDNN scratch).
  constexpr uint64_t kActivationBytesPerInputPixel = 192;
  const bool cuda = device().kind == engine::DeviceKind::kCuda;
  f.host_bytes_per_image = cuda ? f.device_input_bytes : input_pixels * kActivationBytesPerInputPixel;
  // On the CPU one image per forward pass is fastest (centernet_detector.cpp), so a larger
  // batch only holds decoded photos in memory.
  constexpr int kCpuBatchMost = 4;
  f.batch_most = device().kind == engine::DeviceKind::kCpu ? kCpuBatchMost : 0;
  return f;
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
