#include "engine/gpu_runtime.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <initializer_list>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/torch_device.h"

#if defined(MEDIADEX_WITH_CUDA)
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "engine/cuda/activation_kernel.h"
#include "engine/cuda/depthwise_kernel.h"
#include "engine/cuda/resize_kernel.h"
#endif

namespace mediadex::engine {

namespace {

// Makes the current stream wait until the pixels are written.
void WaitUntilWritten(const DevicePixels& pixels) {
  if (!pixels.written) return;
  const c10::Device device = pixels.hwc.device();
  pixels.written->block(c10::impl::getDeviceGuardImpl(device.type())->getStream(device));
}

#if defined(MEDIADEX_WITH_CUDA)
// Each of our network kernels reads and writes contiguous float32 on one GPU.
void CheckFloatsOnGpu(const char* what, std::initializer_list<const at::Tensor*> tensors, const at::Tensor& first) {
  for (const at::Tensor* t : tensors) {
    if (!t->defined()) continue;
    if (!t->is_cuda() || !t->is_contiguous() || t->scalar_type() != at::kFloat || t->device() != first.device()) {
      throw std::invalid_argument(std::string(what) + ": expected contiguous float32 tensors on one GPU");
    }
  }
}

void CheckLaunch(const char* what, cudaError_t error) {
  if (error != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(error));
}

cudaStream_t CurrentStream(const at::Tensor& t) { return c10::cuda::getCurrentCUDAStream(t.device().index()); }

cuda::ResizeTable TableOf(const ResizeTaps& taps) {
  cuda::ResizeTable table;
  table.rows_lo = taps.rows_lo.data_ptr<int64_t>();
  table.rows_hi = taps.rows_hi.data_ptr<int64_t>();
  table.cols_lo = taps.cols_lo.data_ptr<int64_t>();
  table.cols_hi = taps.cols_hi.data_ptr<int64_t>();
  table.row_weight = taps.row_weight.data_ptr<float>();
  table.col_weight = taps.col_weight.data_ptr<float>();
  table.out_height = taps.rows_lo.numel();
  table.out_width = taps.cols_lo.numel();
  return table;
}
#endif

}  // namespace

at::Tensor Upright(const DevicePixels& pixels) {
  WaitUntilWritten(pixels);
  const at::Tensor& hwc = pixels.hwc;
  switch (pixels.orientation) {
    case 2: return hwc.flip({1});
    case 3: return hwc.flip({0, 1});
    case 4: return hwc.flip({0});
    case 5: return hwc.transpose(0, 1).contiguous();
    case 6: return hwc.flip({0}).transpose(0, 1).contiguous();
    case 7: return hwc.flip({0, 1}).transpose(0, 1).contiguous();
    case 8: return hwc.flip({1}).transpose(0, 1).contiguous();
    default: return hwc;
  }
}

at::Tensor ResizeBilinear(const DevicePixels& pixels, const ResizeTaps& taps) {
#if defined(MEDIADEX_WITH_CUDA)
  const at::Tensor& hwc = pixels.hwc;
  if (!hwc.is_cuda() || !hwc.is_contiguous() || hwc.scalar_type() != at::kByte || hwc.dim() != 3 || hwc.size(2) != 3) {
    throw std::invalid_argument("GPU resize: pixels must be contiguous uint8 [H, W, 3] on a GPU");
  }
  c10::cuda::CUDAGuard guard(hwc.device());
  WaitUntilWritten(pixels);
  at::Tensor out = at::empty({taps.rows_lo.numel(), taps.cols_lo.numel(), 3}, hwc.options().dtype(at::kFloat));
  cuda::ResizeJob job;
  job.pixels = hwc.data_ptr<uint8_t>();
  job.height = hwc.size(0);
  job.width = hwc.size(1);
  job.orientation = pixels.orientation;
  job.table = TableOf(taps);
  job.out = out.data_ptr<float>();
  CheckLaunch("GPU resize", cuda::LaunchResizeBilinear(job, CurrentStream(hwc)));
  return out;
#else
  (void)pixels;
  (void)taps;
  throw std::logic_error("GPU resize: no CUDA in this build");  // no DevicePixels exist without CUDA
#endif
}

bool HasCudaKernels() {
#if defined(MEDIADEX_WITH_CUDA)
  return true;
#else
  return false;
#endif
}

at::Tensor DepthwiseConv2dNhwc(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                               const DepthwiseWindow& window, const Epilogue& epilogue) {
#if defined(MEDIADEX_WITH_CUDA)
  constexpr const char* kWhat = "GPU depthwise convolution";
  if (x.dim() != 4 || weight.dim() != 3) throw std::invalid_argument(std::string(kWhat) + ": expected NHWC input and [kh, kw, C] filter");
  const int64_t channels = x.size(3), kernel_h = weight.size(0), kernel_w = weight.size(1);
  if (weight.size(2) != channels || (bias.defined() && bias.numel() != channels)) {
    throw std::invalid_argument(std::string(kWhat) + ": filter or bias does not match the input's channels");
  }
  CheckFloatsOnGpu(kWhat, {&x, &weight, &bias}, x);
  const int64_t out_h = (x.size(1) + window.pad_top + window.pad_bottom - window.dilation_h * (kernel_h - 1) - 1) / window.stride_h + 1;
  const int64_t out_w = (x.size(2) + window.pad_left + window.pad_right - window.dilation_w * (kernel_w - 1) - 1) / window.stride_w + 1;
  if (out_h <= 0 || out_w <= 0) throw std::invalid_argument(std::string(kWhat) + ": input smaller than the window");
  c10::cuda::CUDAGuard guard(x.device());
  at::Tensor y = at::empty({x.size(0), out_h, out_w, channels}, x.options());
  cuda::DepthwiseJob job;
  job.x = x.data_ptr<float>();
  job.weight = weight.data_ptr<float>();
  job.bias = bias.defined() ? bias.data_ptr<float>() : nullptr;
  job.y = y.data_ptr<float>();
  job.batch = static_cast<int>(x.size(0));
  job.in_height = static_cast<int>(x.size(1));
  job.in_width = static_cast<int>(x.size(2));
  job.channels = static_cast<int>(channels);
  job.out_height = static_cast<int>(out_h);
  job.out_width = static_cast<int>(out_w);
  job.kernel_h = static_cast<int>(kernel_h);
  job.kernel_w = static_cast<int>(kernel_w);
  job.stride_h = static_cast<int>(window.stride_h);
  job.stride_w = static_cast<int>(window.stride_w);
  job.pad_top = static_cast<int>(window.pad_top);
  job.pad_left = static_cast<int>(window.pad_left);
  job.dilation_h = static_cast<int>(window.dilation_h);
  job.dilation_w = static_cast<int>(window.dilation_w);
  job.epilogue = epilogue;
  CheckLaunch(kWhat, cuda::LaunchDepthwiseNhwc(job, CurrentStream(x)));
  return y;
#else
  (void)x, (void)weight, (void)bias, (void)window, (void)epilogue;
  throw std::logic_error("GPU depthwise convolution: no CUDA in this build");
#endif
}

at::Tensor ResizeBilinearNhwc(const at::Tensor& x, const ResizeTaps& taps) {
#if defined(MEDIADEX_WITH_CUDA)
  constexpr const char* kWhat = "GPU resize of activations";
  if (x.dim() != 4) throw std::invalid_argument(std::string(kWhat) + ": expected NHWC input");
  CheckFloatsOnGpu(kWhat, {&x, &taps.row_weight, &taps.col_weight}, x);
  c10::cuda::CUDAGuard guard(x.device());
  at::Tensor out = at::empty({x.size(0), taps.rows_lo.numel(), taps.cols_lo.numel(), x.size(3)}, x.options());
  cuda::TensorResizeJob job;
  job.in = x.data_ptr<float>();
  job.batch = x.size(0);
  job.height = x.size(1);
  job.width = x.size(2);
  job.channels = x.size(3);
  job.table = TableOf(taps);
  job.out = out.data_ptr<float>();
  CheckLaunch(kWhat, cuda::LaunchResizeBilinearNhwc(job, CurrentStream(x)));
  return out;
#else
  (void)x, (void)taps;
  throw std::logic_error("GPU resize of activations: no CUDA in this build");
#endif
}

at::Tensor Activate(const at::Tensor& x, const Epilogue& epilogue, bool in_place) {
#if defined(MEDIADEX_WITH_CUDA)
  constexpr const char* kWhat = "GPU activation";
  CheckFloatsOnGpu(kWhat, {&x}, x);
  c10::cuda::CUDAGuard guard(x.device());
  at::Tensor out = in_place ? x : at::empty_like(x);
  CheckLaunch(kWhat, cuda::LaunchActivation(x.data_ptr<float>(), out.data_ptr<float>(), x.numel(), epilogue, CurrentStream(x)));
  return out;
#else
  (void)x, (void)epilogue, (void)in_place;
  throw std::logic_error("GPU activation: no CUDA in this build");
#endif
}

DeviceStream::DeviceStream(const DeviceInfo& device, Kind kind) {
#if defined(MEDIADEX_WITH_CUDA)
  if (device.kind != DeviceKind::kCuda) return;
  const auto index = static_cast<c10::DeviceIndex>(device.index);
  if (kind == Kind::kPooled) {
    stream_ = c10::cuda::getStreamFromPool(false, index);
    return;
  }
  c10::cuda::CUDAGuard guard(index);
  cudaStream_t made = nullptr;
  C10_CUDA_CHECK(cudaStreamCreateWithFlags(&made, cudaStreamNonBlocking));
  owned_ = std::shared_ptr<void>(made, [index](void* s) {
    c10::cuda::CUDAGuard guard(index);
    (void)cudaStreamSynchronize(static_cast<cudaStream_t>(s));
    (void)cudaStreamDestroy(static_cast<cudaStream_t>(s));
  });
  stream_ = c10::cuda::getStreamFromExternal(made, index);
#else
  (void)device;
  (void)kind;
#endif
}

void DeviceStream::Synchronize() const {
  if (stream_) stream_->synchronize();
}

namespace {
// Eager runs of a shape before it is captured: cuDNN's autotuner and lazy initialisations
// (workspace, handles) must happen outside the capture.
constexpr int kEagerRunsBeforeCapture = ForwardGraphs::kRunsUntilReplay - 1;
// Each graph keeps its activations. Callers pad their batches (model/centernet_detector.cpp:
// to the run's batch size), so a run sees one or two shapes; anything past this runs eagerly.
constexpr size_t kMaxGraphs = 8;
}  // namespace

struct ForwardGraphs::Impl {
  std::atomic<bool> enabled{false};
  std::mutex mu;
  std::map<std::vector<int64_t>, int> eager_runs;
#if defined(MEDIADEX_WITH_CUDA)
  struct Captured {
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    at::Tensor input, output;
  };
  std::map<std::vector<int64_t>, Captured> graphs;

  // Captures forward on the current (non-default) stream. Only this thread's work is
  // captured (thread-local mode), so other threads' CUDA work on other streams meanwhile is fine
  // (no one else uses the detector's stream: see DeviceStream).
  bool Capture(const at::Tensor& input, const Forward& forward, Captured* out) {
    out->input = input.clone();
    out->graph = std::make_unique<at::cuda::CUDAGraph>();
    // Autocast's cache of fp16 weights would be filled inside the graph's private pool.
    const bool cache = at::autocast::is_autocast_cache_enabled();
    at::autocast::set_autocast_cache_enabled(false);
    bool capturing = false;
    try {
      c10::cuda::getCurrentCUDAStream().synchronize();
      out->graph->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
      capturing = true;
      out->output = forward(out->input);
      capturing = false;
      out->graph->capture_end();
    } catch (const std::exception& e) {
      if (capturing) {
        try {
          out->graph->capture_end();  // leaves capture mode; throws for the broken capture
        } catch (const std::exception&) {
        }
      }
      at::autocast::set_autocast_cache_enabled(cache);
      (void)cudaGetLastError();  // the failed capture's error is not sticky: clear it
      spdlog::info("CUDA Graph capture failed, running eagerly: {}", StatusFromException("capture", e).message());
      return false;
    }
    at::autocast::set_autocast_cache_enabled(cache);
    return true;
  }
#endif
};

ForwardGraphs::ForwardGraphs(const DeviceInfo& device) : impl_(std::make_unique<Impl>()) {
#if defined(MEDIADEX_WITH_CUDA)
  impl_->enabled = device.kind == DeviceKind::kCuda;
#else
  (void)device;
#endif
}

ForwardGraphs::~ForwardGraphs() = default;

at::Tensor ForwardGraphs::RunToHost(const at::Tensor& input, const Forward& forward) {
#if defined(MEDIADEX_WITH_CUDA)
  if (impl_->enabled) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    const std::vector<int64_t> shape(input.sizes().begin(), input.sizes().end());
    auto it = impl_->graphs.find(shape);
    if (it == impl_->graphs.end() && impl_->graphs.size() < kMaxGraphs &&
        impl_->eager_runs[shape] >= kEagerRunsBeforeCapture) {
      Impl::Captured captured;
      const auto start = std::chrono::steady_clock::now();
      if (impl_->Capture(input, forward, &captured)) {
        it = impl_->graphs.emplace(shape, std::move(captured)).first;
        spdlog::debug("captured a CUDA Graph of the forward pass for a batch of {} in {:.2f} s", input.size(0),
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      } else {
        impl_->enabled = false;
      }
    }
    if (it != impl_->graphs.end()) {
      it->second.input.copy_(input, /*non_blocking=*/true);
      it->second.graph->replay();
      return it->second.output.to(at::kCPU);  // waits: the next replay overwrites the output
    }
    const int run = ++impl_->eager_runs[shape];
    const auto start = std::chrono::steady_clock::now();
    at::Tensor out = forward(input).to(at::kCPU);
    if (impl_->enabled && run <= kEagerRunsBeforeCapture) {  // the warm-up: cuDNN autotuning and all
      spdlog::debug("eager forward pass {} for a batch of {}: {:.2f} s", run, input.size(0),
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return out;
  }
#endif
  // No graphs: nothing shared, so callers run in parallel (CPU workers share one detector).
  return forward(input).to(at::kCPU);
}

}  // namespace mediadex::engine
