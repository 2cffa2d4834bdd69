// LibTorch side of engine/device.h: for engine/ and model/ only (it includes LibTorch).
#ifndef MEDIADEX_ENGINE_TORCH_DEVICE_H_
#define MEDIADEX_ENGINE_TORCH_DEVICE_H_

#include <c10/core/Device.h>

#include "core/status.h"
#include "engine/device.h"

namespace mediadex::engine {

c10::Device ToTorchDevice(const DeviceInfo& device);

// Waits until all queued work on `device` has finished (no-op on CPU).
void Synchronize(const DeviceInfo& device);

// While alive, convolutions and matrix products on `device` run in `precision` (LibTorch's
// autocast; accumulation and numerically sensitive ops stay fp32). A no-op for kFp32.
// Thread-local, like autocast itself: create it on the thread that runs the forward pass.
class PrecisionScope {
 public:
  PrecisionScope(const DeviceInfo& device, Precision precision);
  ~PrecisionScope();
  PrecisionScope(const PrecisionScope&) = delete;
  PrecisionScope& operator=(const PrecisionScope&) = delete;

 private:
  bool active_ = false;
  bool previous_ = false;
  c10::DeviceType type_ = c10::DeviceType::CPU;
};

// Runs `fn`, turning LibTorch exceptions into a Status: CUDA/MPS/host allocation failures
// become OutOfMemory (so callers can halve their batch), other c10::Errors DeviceError.
template <typename Fn>
Status CatchTorch(const char* what, Fn&& fn);

Status StatusFromException(const char* what, const std::exception& e);

// True for allocation failures of the host or a device, whatever LibTorch wrapped them in.
bool IsOutOfMemory(const std::exception& e);

template <typename Fn>
Status CatchTorch(const char* what, Fn&& fn) {
  try {
    fn();
    return Status::Ok();
  } catch (const std::exception& e) {
    return StatusFromException(what, e);
  }
}

}  // namespace mediadex::engine

#endif  // MEDIADEX_ENGINE_TORCH_DEVICE_H_
