// Which compute device runs the model, and proof of it.
//
//   auto choice = engine::PickDevice({.request = "auto"});
//   if (!choice.ok()) ...;                 // e.g. "cuda:3 requested but 1 CUDA device visible"
//   for (auto& note : choice->notes) log(note);   // e.g. "CUDA not in this build"
//
// No LibTorch types here: cli/, pipeline/ and server/ include this header and must compile
// without LibTorch's (slow) headers. engine/torch_device.h converts for engine/ and model/.
#ifndef MEDIADEX_ENGINE_DEVICE_H_
#define MEDIADEX_ENGINE_DEVICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace mediadex::engine {

enum class DeviceKind { kCpu, kCuda, kMps };

struct DeviceInfo {
  DeviceKind kind = DeviceKind::kCpu;
  int index = 0;                 // CUDA ordinal; 0 otherwise
  std::string name;              // "cpu", "cuda:0", "mps"
  std::string description;       // e.g. "NVIDIA H100 80GB HBM3" or the CPU model
  uint64_t memory_total = 0;     // bytes; 0 when unknown
  uint64_t memory_free = 0;      // bytes; 0 when unknown
  bool fp16 = false;             // fast half precision
  bool bf16 = false;             // fast bfloat16
  bool channels_last = true;     // NHWC memory format pays off
  bool own_memory = false;       // memory apart from the host's: images on it get a budget of their own
  bool decodes_jpeg = false;     // nvJPEG can decode JPEGs into its memory (engine/gpu_jpeg.h)
};

// Every device this build and machine can use, CPU last (the fallback).
std::vector<DeviceInfo> ListDevices();

struct DeviceRequest {
  std::string request = "auto";  // auto | cpu | cuda | cuda:N | cuda:N,M | mps
  bool metal_env = false;        // TF_METAL_DEVICE=1 was set: the original app's Metal switch
};

struct DeviceChoice {
  DeviceInfo device;
  std::string reason;               // one line: why this device
  std::vector<std::string> notes;   // what was asked for and is not here, said once
};

// auto = CUDA if available, else MPS, else CPU. An explicit device that is absent is an
// InvalidArgument error naming what is available; TF_METAL_DEVICE=1 without Metal is a note
// and falls back to the best device.
Result<DeviceChoice> PickDevice(const DeviceRequest& request);

// Arithmetic precision of a forward pass.
enum class Precision { kFp32, kFp16, kBf16 };
const char* PrecisionName(Precision precision);

// "fp32" | "fp16" | "bf16" | "auto". auto = the fastest that keeps detections equal, measured:
// fp32 today (see device.cpp). fp16 keeps fp32's detections (the gpu tests check it); bf16 does
// not quite. Half precision on the CPU is emulated and slower: InvalidArgument.
Result<Precision> ResolvePrecision(const std::string& name, const DeviceInfo& device);

// Discovery (ListDevices, PickDevice, CudaDevicesFor) only looks: it makes no CUDA context and
// changes no setting. OpenDevice opens a device for work, once per process and device: on CUDA,
// threads that wait for it sleep instead of spinning (blocking sync), LibTorch maps its memory
// in expandable segments (so nvJPEG decodes straight into it) with the first segment mapped now,
// and its free memory is read into the returned DeviceInfo. Other devices come back as given.
// autotune: let cuDNN time its convolution algorithms on first use and keep the fastest.
// mediadex leaves it off: with the forward pass replayed as a CUDA Graph it bought nothing and
// cost 5 s up front (H100, docs/performance.md).
DeviceInfo OpenDevice(const DeviceInfo& device, bool autotune = false);

// The CUDA devices a request names: "cuda" = every visible GPU, "cuda:N" one, "cuda:0,1" those.
// InvalidArgument when CUDA is absent or an index is not visible.
Result<std::vector<DeviceInfo>> CudaDevicesFor(const std::string& request);

// Sets LibTorch's intra-op threads (0 = number of cores). Inter-op threads stay at 1:
// mediadex parallelises across images itself.
void SetCpuThreads(int threads);
int CpuThreads();

// Build facts for `mediadex doctor`.
struct BuildInfo {
  std::string libtorch_version;
  bool cuda_built = false;
  bool mps_built = false;
  std::string parallel_info;  // at::get_parallel_info(): OpenMP/MKL/oneDNN threads
};
BuildInfo GetBuildInfo();

// Times an n x n float32 matrix product on `device` (the original `test:tf` check), after a
// warm-up, synchronising the device so the time is real.
struct MatmulTiming {
  double seconds = 0;
  double gflops = 0;
};
Result<MatmulTiming> TimeMatmul(const DeviceInfo& device, int n = 2048);

}  // namespace mediadex::engine

#endif  // MEDIADEX_ENGINE_DEVICE_H_
