// Device discovery and choice. The only place that asks LibTorch which accelerators exist;
// CUDA/MPS specifics are behind the runtime checks LibTorch offers in every build, so the same
// source compiles against Debian's CPU LibTorch, a CUDA LibTorch and macOS's MPS LibTorch.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/Version.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/Device.h>
#include <spdlog/spdlog.h>
#include <torch/version.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include "engine/torch_device.h"

#if defined(MEDIADEX_WITH_CUDA)
#include <ATen/cuda/CUDAContext.h>
#if __has_include(<c10/core/AllocatorConfig.h>)
#include <c10/core/AllocatorConfig.h>
#define MEDIADEX_ALLOCATOR_SETTINGS 1
#endif
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

namespace mediadex::engine {
namespace {

std::string CpuModelName() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(colon + 2);
    }
  }
  return "CPU";
}

DeviceInfo CpuDevice() {
  DeviceInfo d;
  d.kind = DeviceKind::kCpu;
  d.name = "cpu";
  d.description = CpuModelName() + " (" + std::to_string(std::thread::hardware_concurrency()) +
                  " cores)";
  d.fp16 = false;  // CPU half precision is emulated: slower than fp32
  d.bf16 = false;
  d.channels_last = true;  // oneDNN's NHWC convolutions measured 1.2-3x faster
  return d;
}

int CudaDeviceCount() { return at::hasCUDA() ? static_cast<int>(at::detail::getCUDAHooks().getNumGPUs()) : 0; }

#if defined(MEDIADEX_WITH_CUDA)
// A thread that waits for its GPU (stream, event or device synchronize) sleeps until woken
// instead of spinning on a core: the decoders of a GPU run need every core, and the inference
// thread and nvJPEG's workers wait for the GPU most of the time. MEDIADEX_CUDA_SPIN=1 keeps
// CUDA's default (spinning while the host has more cores than GPUs), for comparison.
void SleepWhileWaitingFor(int index) {
  if (std::getenv("MEDIADEX_CUDA_SPIN") != nullptr) return;
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(index));
  const cudaError_t error = cudaSetDeviceFlags(cudaDeviceScheduleBlockingSync);
  unsigned flags = 0;
  cudaGetDeviceFlags(&flags);
  if (error != cudaSuccess || (flags & cudaDeviceScheduleMask) != cudaDeviceScheduleBlockingSync) {
    spdlog::debug("cuda:{}: waits keep spinning ({})", index, cudaGetErrorString(error));
    cudaGetLastError();  // not sticky; clear it for LibTorch's next check
  } else {
    spdlog::debug("cuda:{}: threads that wait for it sleep (blocking sync)", index);
  }
}

// LibTorch's CUDA memory in expandable segments: mapped through CUDA's virtual memory API, so
// nvJPEG, in a CUDA context of its own, decodes straight into it (engine/gpu_jpeg.cpp). On an
// H100 it also cut the time uploads spent allocating from 1.53 s to 0.05 s a run
// (docs/performance.md). An allocator configuration the user set (PYTORCH_ALLOC_CONF,
// PYTORCH_CUDA_ALLOC_CONF) is theirs: it stays as it is.
// Each GPU's first segment is mapped here (OpenDevice), on the thread that opens the devices one at a time,
// before other threads allocate: on two H100s, when nvJPEG's start on each GPU made the first
// mappings at the same time, one failed with "operation not permitted" (and that GPU's nvJPEG
// had to share the network's context); mapped here first, none did.
void MapGpuMemoryExpandably(int index) {
#if defined(MEDIADEX_ALLOCATOR_SETTINGS)
  static std::once_flag once;
  std::call_once(once, [] {
    for (const char* name : {"PYTORCH_ALLOC_CONF", "PYTORCH_CUDA_ALLOC_CONF"}) {
      if (const char* set = std::getenv(name); set != nullptr && *set != '\0') return;
    }
    c10::CachingAllocator::setAllocatorSettings("expandable_segments:True");
  });
#endif
  try {
    (void)at::empty({int64_t{2} << 20}, at::TensorOptions().dtype(at::kByte).device(at::kCUDA, index));
  } catch (const std::exception& e) {
    spdlog::debug("cuda:{}: first allocation failed: {}", index, e.what());
  }
}
#endif

// What a GPU is, from its properties alone: no CUDA context is made and no setting changes, so
// `doctor` and the choice of device leave the process as they found it (OpenDevice opens it).
DeviceInfo CudaDevice(int index) {
  DeviceInfo d;
  d.kind = DeviceKind::kCuda;
  d.index = index;
  d.name = "cuda:" + std::to_string(index);
  d.description = "CUDA device " + std::to_string(index);
  d.fp16 = true;
  d.bf16 = true;
  d.own_memory = true;
#if defined(MEDIADEX_WITH_CUDA)
  d.decodes_jpeg = true;  // gpu_jpeg_nvjpeg.cpp is in CUDA builds
  const cudaDeviceProp* prop = at::cuda::getDeviceProperties(index);
  d.description = prop->name;
  d.bf16 = prop->major >= 8;
  d.memory_total = prop->totalGlobalMem;
#endif
  return d;
}

#if defined(MEDIADEX_WITH_CUDA)
// Opens one GPU for work, once per process: the wait mode first (it must precede the device's
// context), then the context itself through the memory query, then the first mapping.
void OpenCudaDevice(DeviceInfo& d) {
  static std::mutex mu;
  static std::set<int> opened;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (opened.insert(d.index).second) {
      SleepWhileWaitingFor(d.index);
      MapGpuMemoryExpandably(d.index);
    }
  }
  size_t free_bytes = 0, total_bytes = 0;
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(d.index));
  if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
    d.memory_free = free_bytes;
    d.memory_total = total_bytes;
  }
}
#endif

DeviceInfo MpsDevice() {
  DeviceInfo d;
  d.kind = DeviceKind::kMps;
  d.name = "mps";
  d.description = "Apple Metal (MPS)";
  d.fp16 = true;
  return d;
}

bool BuiltWithCuda() {
#if defined(MEDIADEX_WITH_CUDA)
  return true;
#else
  return false;
#endif
}

// Why there is no CUDA device, in words a user can act on.
std::string NoCudaReason() {
  if (!BuiltWithCuda() && !at::hasCUDA()) return "CUDA not in this build (LibTorch without CUDA)";
  return "no CUDA device visible (driver missing or CUDA_VISIBLE_DEVICES empty)";
}

std::string NoMpsReason() {
#if defined(__APPLE__)
  return "Metal (MPS) is not available (needs Apple silicon, macOS 12.3+ and an MPS LibTorch)";
#else
  return "Metal (MPS) exists only on macOS";
#endif
}

}  // namespace

std::vector<DeviceInfo> ListDevices() {
  std::vector<DeviceInfo> devices;
  for (int i = 0; i < CudaDeviceCount(); ++i) devices.push_back(CudaDevice(i));
  if (at::hasMPS()) devices.push_back(MpsDevice());
  devices.push_back(CpuDevice());
  return devices;
}

Result<DeviceChoice> PickDevice(const DeviceRequest& request) {
  DeviceChoice choice;
  const int cuda_count = CudaDeviceCount();
  const bool has_mps = at::hasMPS();
  const std::string& r = request.request;

  // The original app's Metal switch: honour it as "use MPS" unless a device was named.
  if (request.metal_env && (r == "auto" || r.empty())) {
    if (has_mps) {
      choice.device = MpsDevice();
      choice.reason = "TF_METAL_DEVICE=1 asked for Metal and MPS is available";
      return choice;
    }
    choice.notes.push_back("TF_METAL_DEVICE=1 but " + NoMpsReason() + "; using the best device here");
  }

  if (r == "auto" || r.empty()) {
    if (cuda_count > 0) {
      choice.device = CudaDevice(0);
      choice.reason = "auto: CUDA available (" + std::to_string(cuda_count) + " device(s))";
    } else if (has_mps) {
      choice.device = MpsDevice();
      choice.reason = "auto: no CUDA; Metal (MPS) available";
    } else {
      choice.device = CpuDevice();
      choice.reason = "auto: " + NoCudaReason() + "; " + NoMpsReason();
    }
    return choice;
  }
  if (r == "cpu") {
    choice.device = CpuDevice();
    choice.reason = "requested --device cpu";
    return choice;
  }
  if (r == "mps") {
    if (!has_mps) return InvalidArgument("--device mps: " + NoMpsReason());
    choice.device = MpsDevice();
    choice.reason = "requested --device mps";
    return choice;
  }
  if (r == "cuda" || r.rfind("cuda:", 0) == 0) {
    auto devices = CudaDevicesFor(r);
    if (!devices.ok()) return devices.status();
    choice.device = devices->front();
    choice.reason = "requested --device " + r;
    return choice;
  }
  return InvalidArgument("--device " + r + ": expected auto, cpu, cuda, cuda:N or mps");
}

Result<std::vector<DeviceInfo>> CudaDevicesFor(const std::string& request) {
  const int count = CudaDeviceCount();
  if (count == 0) return InvalidArgument("--device " + request + ": " + NoCudaReason());
  std::vector<DeviceInfo> devices;
  if (request == "cuda") {
    for (int i = 0; i < count; ++i) devices.push_back(CudaDevice(i));
    return devices;
  }
  // cuda:N or cuda:N,M,...
  std::string list = request.substr(5);
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    char* end = nullptr;
    const long index = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || index < 0) {
      return InvalidArgument("--device " + request + ": '" + item + "' is not a CUDA index");
    }
    if (index >= count) {
      return InvalidArgument("--device " + request + ": only " + std::to_string(count) +
                             " CUDA device(s) visible");
    }
    devices.push_back(CudaDevice(static_cast<int>(index)));
    start = comma + 1;
  }
  return devices;
}

void SetCpuThreads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // LibTorch 1.13 on Debian defaults to 1 intra-op thread: always set it explicitly.
  at::set_num_threads(threads);
}

int CpuThreads() { return at::get_num_threads(); }

BuildInfo GetBuildInfo() {
  BuildInfo info;
  info.libtorch_version = TORCH_VERSION;
  info.cuda_built = BuiltWithCuda() || at::hasCUDA();
  info.mps_built = at::hasMPS();
  info.parallel_info = at::get_parallel_info();
  return info;
}

const char* PrecisionName(Precision precision) {
  switch (precision) {
    case Precision::kFp32: return "fp32";
    case Precision::kFp16: return "fp16";
    case Precision::kBf16: return "bf16";
  }
  return "?";
}

Result<Precision> ResolvePrecision(const std::string& name, const DeviceInfo& device) {
  const bool gpu = device.kind != DeviceKind::kCpu;
  // auto = fp32 everywhere for now: on an H200 autocast fp16 gave the same detections but ran
  // slower (475 vs 527 images/s at batch 64), because the graph's fp32 constants cast every
  // activation back; fp16 pays once the weights themselves are converted (docs/performance.md).
  if (name == "auto" || name.empty()) return Precision::kFp32;
  if (name == "fp32") return Precision::kFp32;
  if (name != "fp16" && name != "bf16") {
    return InvalidArgument("--precision " + name + ": expected auto, fp32, fp16 or bf16");
  }
  if (!gpu) return InvalidArgument("--precision " + name + ": half precision is for GPUs; the CPU runs fp32");
  if (name == "bf16" && !device.bf16) return InvalidArgument("--precision bf16: " + device.name + " has no fast bf16");
  return name == "fp16" ? Precision::kFp16 : Precision::kBf16;
}

DeviceInfo OpenDevice(const DeviceInfo& device, bool autotune) {
  DeviceInfo opened = device;
  if (device.kind != DeviceKind::kCuda) return opened;
#if defined(MEDIADEX_WITH_CUDA)
  OpenCudaDevice(opened);
#endif
  // The model's input shape is fixed, so what cuDNN measures once holds for the whole run.
  // MEDIADEX_CUDNN_AUTOTUNE=0|1 overrides, for measuring what autotuning buys (bench/gpu).
  if (const char* env = std::getenv("MEDIADEX_CUDNN_AUTOTUNE"); env != nullptr && *env != '\0') {
    autotune = std::string(env) != "0";
  }
  at::globalContext().setBenchmarkCuDNN(autotune);
  return opened;
}

PrecisionScope::PrecisionScope(const DeviceInfo& device, Precision precision) {
  if (precision == Precision::kFp32 || device.kind == DeviceKind::kCpu) return;
  const at::ScalarType dtype = precision == Precision::kFp16 ? at::kHalf : at::kBFloat16;
  type_ = device.kind == DeviceKind::kCuda ? c10::DeviceType::CUDA : c10::DeviceType::MPS;
#if TORCH_VERSION_MAJOR >= 2
  previous_ = at::autocast::is_autocast_enabled(type_);
  at::autocast::set_autocast_dtype(type_, dtype);
  at::autocast::set_autocast_enabled(type_, true);
#else
  if (type_ != c10::DeviceType::CUDA) return;  // LibTorch 1.x autocasts CUDA only
  previous_ = at::autocast::is_enabled();
  at::autocast::set_autocast_gpu_dtype(dtype);
  at::autocast::set_enabled(true);
#endif
  active_ = true;
}

PrecisionScope::~PrecisionScope() {
  if (!active_) return;
#if TORCH_VERSION_MAJOR >= 2
  at::autocast::set_autocast_enabled(type_, previous_);
#else
  at::autocast::set_enabled(previous_);
#endif
}

c10::Device ToTorchDevice(const DeviceInfo& device) {
  switch (device.kind) {
    case DeviceKind::kCuda:
      return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device.index));
    case DeviceKind::kMps:
      return c10::Device(c10::DeviceType::MPS);
    case DeviceKind::kCpu:
      break;
  }
  return c10::Device(c10::DeviceType::CPU);
}

void Synchronize(const DeviceInfo& device) {
#if defined(MEDIADEX_WITH_CUDA)
  if (device.kind == DeviceKind::kCuda) c10::cuda::device_synchronize();
#endif
  if (device.kind == DeviceKind::kMps) {
    // A host read waits for every queued MPS kernel: the portable way to synchronise.
    at::zeros({1}, at::TensorOptions().device(c10::DeviceType::MPS)).cpu();
  }
}

bool IsOutOfMemory(const std::exception& e) {
  const std::string message = e.what();
  return dynamic_cast<const c10::OutOfMemoryError*>(&e) != nullptr ||
         dynamic_cast<const std::bad_alloc*>(&e) != nullptr ||
         message.find("out of memory") != std::string::npos ||
         message.find("not enough memory") != std::string::npos ||
         message.find("DefaultCPUAllocator: can't allocate") != std::string::npos;
}

Status StatusFromException(const char* what, const std::exception& e) {
  std::string message = e.what();
  // c10::Error messages carry a C++ backtrace after the first line: keep the first line.
  const std::string first_line = message.substr(0, message.find('\n'));
  if (IsOutOfMemory(e)) return OutOfMemory(std::string(what) + ": " + first_line);
  return DeviceError(std::string(what) + ": " + first_line);
}

Result<MatmulTiming> TimeMatmul(const DeviceInfo& device, int n) {
  MatmulTiming timing;
  Status status = CatchTorch("matmul self-test", [&] {
    at::InferenceMode guard;
    auto options = at::TensorOptions().dtype(at::kFloat).device(ToTorchDevice(device));
    at::Tensor a = at::rand({n, n}, options);
    at::Tensor b = at::rand({n, n}, options);
    at::Tensor warm = at::matmul(a, b);  // first call pays for kernel selection and allocation
    Synchronize(device);
    const int repeats = device.kind == DeviceKind::kCpu ? 3 : 20;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < repeats; ++i) warm = at::matmul(a, b);
    Synchronize(device);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
    // Read one value back so the work cannot be skipped and the result is real.
    if (!std::isfinite(warm[0][0].item<float>())) throw std::runtime_error("non-finite matmul result");
    timing.seconds = seconds;
    timing.gflops = 2.0 * n * n * static_cast<double>(n) / seconds / 1e9;
  });
  if (!status.ok()) return status;
  return timing;
}

}  // namespace mediadex::engine
