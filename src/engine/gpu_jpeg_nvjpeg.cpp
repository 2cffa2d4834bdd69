// nvJPEG decoding (CUDA builds only; gpu_jpeg_stub.cpp stands in elsewhere).
#include "engine/gpu_jpeg.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda.h>
#include <nvjpeg.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "engine/gpu_runtime.h"
#include "engine/torch_device.h"

namespace mediadex::engine {
namespace {

std::string NvjpegError(nvjpegStatus_t status) {
  switch (status) {
    case NVJPEG_STATUS_BAD_JPEG: return "not a JPEG nvJPEG can read";
    case NVJPEG_STATUS_JPEG_NOT_SUPPORTED: return "a JPEG kind nvJPEG does not decode";
    case NVJPEG_STATUS_ALLOCATOR_FAILURE: return "nvJPEG could not allocate memory";
    case NVJPEG_STATUS_EXECUTION_FAILED: return "nvJPEG failed on the GPU";
    case NVJPEG_STATUS_ARCH_MISMATCH: return "this GPU lacks what nvJPEG needs";
    case NVJPEG_STATUS_IMPLEMENTATION_NOT_SUPPORTED: return "not supported by this nvJPEG backend";
    case NVJPEG_STATUS_INCOMPLETE_BITSTREAM: return "truncated JPEG";
    default: return "nvJPEG error " + std::to_string(static_cast<int>(status));
  }
}

// Makes a CUDA context current on the calling thread while it lives (nothing for nullptr).
class ContextScope {
 public:
  explicit ContextScope(CUcontext context) : pushed_(context != nullptr && cuCtxPushCurrent(context) == CUDA_SUCCESS) {}
  ~ContextScope() {
    CUcontext popped = nullptr;
    if (pushed_) cuCtxPopCurrent(&popped);
  }
  ContextScope(const ContextScope&) = delete;
  ContextScope& operator=(const ContextScope&) = delete;

 private:
  bool pushed_;
};

void CheckCuda(cudaError_t error, const char* what) {
  if (error != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(error));
}

// Whether LibTorch's allocator maps this GPU's memory through CUDA's virtual memory API (its
// expandable segments, engine/device.cpp), which another CUDA context of the process can write
// too: the rest of cudaMalloc'd memory belongs to its own context alone. Asked of a real block;
// Ok, or why not.
Status TorchMemoryIsMapped(int device_index) {
  bool mapped = false;
  Status allocated = CatchTorch("allocating on the GPU", [&] {
    const at::Tensor probe =
        at::empty({int64_t{4} << 20}, at::TensorOptions().dtype(at::kByte).device(at::kCUDA, device_index));
    CUmemGenericAllocationHandle handle{};
    mapped = cuMemRetainAllocationHandle(&handle, probe.data_ptr()) == CUDA_SUCCESS;
    if (mapped) cuMemRelease(handle);
  });
  if (!allocated.ok()) return allocated;
  return mapped ? Status::Ok() : Unsupported("LibTorch's memory is not in expandable segments, which both contexts could write");
}

}  // namespace

// One nvJPEG library context per GPU, shared by its workers (nvJPEG's handle is thread-safe;
// starting the hardware backend is the slow part of making a decoder).
//
// nvJPEG runs in a CUDA context of its own, not in the process's (primary) one where the
// network runs: in one context the hardware decoder's batched call ran 2.6x slower beside the
// network (decode-only on an H100: 337.6 images/s against 892.0 alone; in a context of its own
// 784.5, as in another process: docs/performance.md). It decodes straight into LibTorch's
// memory, which the primary context maps for both (TorchMemoryIsMapped). Where that memory is
// not mapped so (an allocator configuration of the user's) or no second context can be made (a
// GPU in exclusive-process mode), nvJPEG shares the primary context.
struct GpuJpegDecoder::Library {
  CUcontext own = nullptr;  // nvJPEG's own context, or nullptr: it shares the primary one
  nvjpegHandle_t handle = nullptr;
  std::string backend;
  bool hardware = false;
  // Decode states made with the context (~0.2 s each on the hardware backend, so
  // StartInBackground makes them too): a worker takes one at its first Decode.
  mutable std::mutex spare_mu;
  mutable std::vector<nvjpegJpegState_t> spare_states;  // GUARDED_BY(spare_mu)

  nvjpegJpegState_t TakeSpareState() const {
    std::lock_guard<std::mutex> lock(spare_mu);
    if (spare_states.empty()) return nullptr;
    nvjpegJpegState_t state = spare_states.back();
    spare_states.pop_back();
    return state;
  }
  ~Library() {
    {
      ContextScope in_own(own);
      for (nvjpegJpegState_t state : spare_states) nvjpegJpegStateDestroy(state);
      if (handle) nvjpegDestroy(handle);
    }
    if (own) cuCtxDestroy(own);
  }
};

namespace {
// Decode states StartLibrary makes ahead: the indexer's nvJPEG workers per GPU by default.
constexpr int kSpareStates = 1;
}  // namespace

struct GpuJpegDecoder::Impl {
  DeviceInfo device;
  std::shared_ptr<const Library> library;
  // In nvJPEG's context: the stream it decodes on and the event that marks a batch decoded.
  cudaStream_t decode_stream = nullptr;
  cudaEvent_t decoded = nullptr;
  // In the primary context: the stream each batch's pixels are allocated on, which waits for
  // the decode and then marks them `written` for their readers.
  std::optional<DeviceStream> own_pixel_stream;
  std::optional<c10::cuda::CUDAStream> pixel_stream;  // own_pixel_stream, as LibTorch takes it
  nvjpegHandle_t handle = nullptr;  // library->handle
  nvjpegJpegState_t state = nullptr;
  nvjpegJpegStream_t parser = nullptr;  // headers, for the per-file support check
  std::string backend;
  bool hardware = false;
  int initialized_batch = 0;
  // A kGpuHuffman worker: nvJPEG's decoupled API with the GPU_HYBRID decoder, a file at a time.
  // Two slots alternate, so one file's host phase (parsing into pinned memory) overlaps the
  // previous file's copy to the GPU.
  struct Slot {
    nvjpegBufferPinned_t pinned = nullptr;
    nvjpegJpegStream_t stream = nullptr;
    cudaEvent_t copied = nullptr;  // the slot's last file is on the GPU: its pinned memory is free
  };
  bool gpu_huffman = false;
  nvjpegHandle_t own_handle = nullptr;  // where the library's (hardware) handle makes no GPU_HYBRID decoder
  nvjpegJpegDecoder_t huffman = nullptr;
  nvjpegJpegState_t huffman_state = nullptr;
  nvjpegDecodeParams_t huffman_params = nullptr;
  nvjpegBufferDevice_t huffman_buffer = nullptr;
  Slot slots[2];
  bool warned_batch_failure = false;
  // Time in Check, in setting up batches (the checks Decode makes itself, allocation), waiting
  // for the previous batch, and in nvJPEG's batched decode (the hardware backend returns when
  // its batch is nearly done).
  double check_s = 0, setup_s = 0, wait_s = 0, decode_s = 0;
  int64_t files = 0, batches = 0;
  // Of decode_s: readying the decode state for a new batch size (the last batch is smaller).
  double initialize_s = 0;
  int initializations = 0;

  ~Impl() {
    if (files > 0 || check_s > 0) {
      spdlog::debug("{}: nvJPEG {} worker: checks {:.2f} s; {} files decoded in {} batches in {:.2f} s ({} batch "
                    "sizes readied in {:.2f} s), with {:.2f} s setting up batches and {:.2f} s waiting for a previous one",
                    device.name, backend, check_s, files, batches, decode_s, initializations, initialize_s, setup_s,
                    wait_s);
    }
    if (pixel_stream) pixel_stream->synchronize();  // nothing in flight on what is about to go
    ContextScope in_own(library->own);
    if (decode_stream) cudaStreamSynchronize(decode_stream);
    if (parser) nvjpegJpegStreamDestroy(parser);
    if (state) nvjpegJpegStateDestroy(state);
    for (Slot& slot : slots) {
      if (slot.copied) cudaEventDestroy(slot.copied);
      if (slot.stream) nvjpegJpegStreamDestroy(slot.stream);
      if (slot.pinned) nvjpegBufferPinnedDestroy(slot.pinned);
    }
    if (huffman_state) nvjpegJpegStateDestroy(huffman_state);
    if (huffman_buffer) nvjpegBufferDeviceDestroy(huffman_buffer);
    if (huffman_params) nvjpegDecodeParamsDestroy(huffman_params);
    if (huffman) nvjpegDecoderDestroy(huffman);
    if (own_handle) nvjpegDestroy(own_handle);
    if (decoded) cudaEventDestroy(decoded);
    if (decode_stream) cudaStreamDestroy(decode_stream);
  }

  // Header checks that keep a file out of a batch nvJPEG would fail as a whole.
  Status Check(GpuJpegDecoder::Input* in) {
    if (!JpegEndsWhole(in->data, in->size)) return Unsupported("no end-of-image marker at its end (cut short?)");
    nvjpegStatus_t s = nvjpegJpegStreamParse(handle, in->data, in->size, 0, 0, parser);
    if (s != NVJPEG_STATUS_SUCCESS) return Unsupported(NvjpegError(s));
    unsigned components = 0;
    if (nvjpegJpegStreamGetComponentsNum(parser, &components) != NVJPEG_STATUS_SUCCESS ||
        (components != 1 && components != 3)) {
      return Unsupported("JPEG with " + std::to_string(components) + " components");
    }
    unsigned width = 0, height = 0;
    if (nvjpegJpegStreamGetFrameDimensions(parser, &width, &height) != NVJPEG_STATUS_SUCCESS || width == 0 ||
        height == 0) {
      return Unsupported("no frame size in the JPEG header");
    }
    if (hardware) {
      int unsupported = 1;
      s = nvjpegDecodeBatchedSupported(handle, parser, &unsupported);
      if (s != NVJPEG_STATUS_SUCCESS || unsupported != 0) return Unsupported("not for the hardware decoder");
    }
    in->width = width;
    in->height = height;
    return Status::Ok();
  }

  // Readies a kGpuHuffman worker (in nvJPEG's context).
  Status StartGpuHuffman() {
    gpu_huffman = true;
    backend = "gpu-huffman";
    hardware = false;
    nvjpegStatus_t s = nvjpegDecoderCreate(handle, NVJPEG_BACKEND_GPU_HYBRID, &huffman);
    if (s != NVJPEG_STATUS_SUCCESS) {
      s = nvjpegCreateEx(NVJPEG_BACKEND_GPU_HYBRID, nullptr, nullptr, NVJPEG_FLAGS_DEFAULT, &own_handle);
      if (s == NVJPEG_STATUS_SUCCESS) {
        handle = own_handle;
        s = nvjpegDecoderCreate(handle, NVJPEG_BACKEND_GPU_HYBRID, &huffman);
      }
    }
    if (s == NVJPEG_STATUS_SUCCESS) s = nvjpegDecoderStateCreate(handle, huffman, &huffman_state);
    if (s == NVJPEG_STATUS_SUCCESS) s = nvjpegDecodeParamsCreate(handle, &huffman_params);
    if (s == NVJPEG_STATUS_SUCCESS) s = nvjpegDecodeParamsSetOutputFormat(huffman_params, NVJPEG_OUTPUT_RGBI);
    if (s == NVJPEG_STATUS_SUCCESS) s = nvjpegBufferDeviceCreate(handle, nullptr, &huffman_buffer);
    if (s == NVJPEG_STATUS_SUCCESS) s = nvjpegStateAttachDeviceBuffer(huffman_state, huffman_buffer);
    for (Slot& slot : slots) {
      if (s == NVJPEG_STATUS_SUCCESS) s = nvjpegBufferPinnedCreate(handle, nullptr, &slot.pinned);
      if (s == NVJPEG_STATUS_SUCCESS) s = nvjpegJpegStreamCreate(handle, &slot.stream);
      if (s == NVJPEG_STATUS_SUCCESS && cudaEventCreateWithFlags(&slot.copied, cudaEventDisableTiming) != cudaSuccess) {
        return DeviceError(device.name + ": nvJPEG's GPU Huffman decoder did not start: no event for it");
      }
    }
    if (s != NVJPEG_STATUS_SUCCESS) {
      return DeviceError(device.name + ": nvJPEG's GPU Huffman decoder did not start: " + NvjpegError(s));
    }
    return Status::Ok();
  }

  // Queues the batched decode of every file on decode_stream (one status for all).
  nvjpegStatus_t QueueBatched(const std::vector<const unsigned char*>& data, const std::vector<size_t>& lengths,
                              std::vector<nvjpegImage_t>& outputs) {
    using Clock = std::chrono::steady_clock;
    const int n = static_cast<int>(data.size());
    nvjpegStatus_t s = NVJPEG_STATUS_SUCCESS;
    if (state == nullptr) state = library->TakeSpareState();
    if (state == nullptr) {
      s = nvjpegJpegStateCreate(handle, &state);
      if (s != NVJPEG_STATUS_SUCCESS) state = nullptr;
    }
    if (s == NVJPEG_STATUS_SUCCESS && n != initialized_batch) {
      const auto initializing = Clock::now();
      s = nvjpegDecodeBatchedInitialize(handle, state, n, 1, NVJPEG_OUTPUT_RGBI);
      initialized_batch = s == NVJPEG_STATUS_SUCCESS ? n : 0;
      initialize_s += std::chrono::duration<double>(Clock::now() - initializing).count();
      ++initializations;
    }
    if (s == NVJPEG_STATUS_SUCCESS) {
      s = nvjpegDecodeBatched(handle, state, data.data(), lengths.data(), outputs.data(), decode_stream);
    }
    if (s != NVJPEG_STATUS_SUCCESS) initialized_batch = 0;
    return s;
  }

  // Queues each file's decode on decode_stream with the GPU Huffman decoder (a status each:
  // one bad file fails alone).
  std::vector<nvjpegStatus_t> QueueEach(const std::vector<const unsigned char*>& data,
                                        const std::vector<size_t>& lengths, std::vector<nvjpegImage_t>& outputs) {
    std::vector<nvjpegStatus_t> statuses;
    for (size_t k = 0; k < data.size(); ++k) {
      Slot& slot = slots[k % 2];
      CheckCuda(cudaEventSynchronize(slot.copied), "nvJPEG event");
      nvjpegStatus_t s = nvjpegStateAttachPinnedBuffer(huffman_state, slot.pinned);
      if (s == NVJPEG_STATUS_SUCCESS) s = nvjpegJpegStreamParse(handle, data[k], lengths[k], 0, 0, slot.stream);
      if (s == NVJPEG_STATUS_SUCCESS) s = nvjpegDecodeJpegHost(handle, huffman, huffman_state, huffman_params, slot.stream);
      if (s == NVJPEG_STATUS_SUCCESS) {
        s = nvjpegDecodeJpegTransferToDevice(handle, huffman, huffman_state, slot.stream, decode_stream);
      }
      if (s == NVJPEG_STATUS_SUCCESS) {
        CheckCuda(cudaEventRecord(slot.copied, decode_stream), "nvJPEG event");
        s = nvjpegDecodeJpegDevice(handle, huffman, huffman_state, &outputs[k], decode_stream);
      }
      statuses.push_back(s);
    }
    return statuses;
  }
};

namespace {

using LibraryResult = Result<std::shared_ptr<const GpuJpegDecoder::Library>>;

// Contexts that StartInBackground is making, per device index, until a Create or the token
// takes them.
std::mutex started_mu;
std::map<int, std::shared_future<LibraryResult>> started;  // GUARDED_BY(started_mu)

}  // namespace

LibraryResult GpuJpegDecoder::StartLibrary(const DeviceInfo& device) {
  LibraryResult library = DeviceError(device.name + ": nvJPEG did not start");
  const Status caught = CatchTorch("starting nvJPEG", [&] { library = StartLibraryOn(device); });
  if (!caught.ok()) return caught.WithContext(device.name);
  return library;
}

LibraryResult GpuJpegDecoder::StartLibraryOn(const DeviceInfo& device) {
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device.index));
  const auto start = std::chrono::steady_clock::now();
  auto library = std::make_shared<Library>();
  CUdevice cu_device = 0;
  if (cuDeviceGet(&cu_device, device.index) != CUDA_SUCCESS) {
    return DeviceError(device.name + ": nvJPEG did not start: no such CUDA device");
  }
  // MEDIADEX_NVJPEG_CONTEXT=shared keeps nvJPEG in the primary context, to compare.
  const char* context_choice = std::getenv("MEDIADEX_NVJPEG_CONTEXT");
  std::string shared_because;
  if (context_choice != nullptr && std::string(context_choice) == "shared") {
    shared_because = "MEDIADEX_NVJPEG_CONTEXT=shared";
  } else if (Status mapped = TorchMemoryIsMapped(device.index); !mapped.ok()) {
    shared_because = mapped.message();
  } else {
    // Made current by its creation; popped, so this thread stays in the primary context.
#if CUDA_VERSION >= 13000
    const CUresult made = cuCtxCreate(&library->own, nullptr, CU_CTX_SCHED_BLOCKING_SYNC, cu_device);
#else
    const CUresult made = cuCtxCreate(&library->own, CU_CTX_SCHED_BLOCKING_SYNC, cu_device);
#endif
    if (made == CUDA_SUCCESS) {
      CUcontext popped = nullptr;
      cuCtxPopCurrent(&popped);
    } else {
      library->own = nullptr;
      const char* why = nullptr;
      cuGetErrorString(made, &why);
      shared_because = std::string("no context of its own: ") + (why ? why : "unknown error");
    }
  }
  if (!shared_because.empty()) {
    spdlog::debug("{}: nvJPEG shares the process's CUDA context ({})", device.name, shared_because);
  }
  ContextScope in_own(library->own);
  // The hardware engine first; nvJPEG refuses it on GPUs without one.
  const std::pair<nvjpegBackend_t, const char*> backends[] = {
      {NVJPEG_BACKEND_HARDWARE, "hardware"}, {NVJPEG_BACKEND_GPU_HYBRID, "cuda"}, {NVJPEG_BACKEND_DEFAULT, "cuda"}};
  nvjpegStatus_t status = NVJPEG_STATUS_NOT_INITIALIZED;
  for (const auto& [backend, name] : backends) {
    status = nvjpegCreateEx(backend, nullptr, nullptr, NVJPEG_FLAGS_DEFAULT, &library->handle);
    if (status == NVJPEG_STATUS_SUCCESS) {
      library->backend = name;
      library->hardware = backend == NVJPEG_BACKEND_HARDWARE;
      break;
    }
    library->handle = nullptr;
  }
  if (library->handle == nullptr) return DeviceError(device.name + ": nvJPEG did not start: " + NvjpegError(status));
  for (int i = 0; i < kSpareStates; ++i) {
    nvjpegJpegState_t state = nullptr;
    if (nvjpegJpegStateCreate(library->handle, &state) != NVJPEG_STATUS_SUCCESS) break;
    library->spare_states.push_back(state);
  }
  spdlog::debug("{}: nvJPEG on the {} backend{}, started in {:.2f} s", device.name, library->backend,
                library->own ? " in a CUDA context of its own" : "",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return std::shared_ptr<const Library>(std::move(library));
}

std::unique_ptr<GpuJpegDecoder::BackgroundStart> GpuJpegDecoder::StartInBackground(const DeviceInfo& device) {
  if (device.kind != DeviceKind::kCuda) return nullptr;
  std::lock_guard<std::mutex> lock(started_mu);
  if (!started.count(device.index)) {
    started.emplace(device.index, std::async(std::launch::async, [device] { return StartLibrary(device); }).share());
  }
  return std::make_unique<BackgroundStart>(device.index);
}

GpuJpegDecoder::BackgroundStart::~BackgroundStart() {
  std::shared_future<LibraryResult> untaken;
  {
    std::lock_guard<std::mutex> lock(started_mu);
    auto it = started.find(device_index_);
    if (it == started.end()) return;
    untaken = std::move(it->second);
    started.erase(it);
  }
  untaken.wait();  // its context goes with it, while CUDA is still up
}

Result<std::unique_ptr<GpuJpegDecoder>> GpuJpegDecoder::Create(const DeviceInfo& device) {
  if (device.kind != DeviceKind::kCuda) return Unsupported("GPU JPEG decoding needs a CUDA device");
  std::optional<std::shared_future<LibraryResult>> background;
  {
    std::lock_guard<std::mutex> lock(started_mu);
    if (auto it = started.find(device.index); it != started.end()) {
      background = it->second;
      started.erase(it);
    }
  }
  LibraryResult library = background ? background->get() : StartLibrary(device);
  if (!library.ok()) return library.status();
  return Worker(device, std::move(library).value(), GpuJpegEngine::kBatched);
}

Result<std::unique_ptr<GpuJpegDecoder>> GpuJpegDecoder::AnotherWorker(GpuJpegEngine engine) const {
  return Worker(impl_->device, impl_->library, engine);
}

Result<std::unique_ptr<GpuJpegDecoder>> GpuJpegDecoder::Worker(const DeviceInfo& device,
                                                              std::shared_ptr<const Library> library,
                                                              GpuJpegEngine engine) {
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device.index));
  auto impl = std::make_unique<Impl>();
  impl->device = device;
  impl->own_pixel_stream.emplace(device, DeviceStream::Kind::kOwn);
  impl->pixel_stream = c10::cuda::CUDAStream(*impl->own_pixel_stream->stream());
  impl->handle = library->handle;
  impl->backend = library->backend;
  impl->hardware = library->hardware;
  impl->library = std::move(library);
  ContextScope in_own(impl->library->own);
  if (cudaStreamCreateWithFlags(&impl->decode_stream, cudaStreamNonBlocking) != cudaSuccess ||
      cudaEventCreateWithFlags(&impl->decoded, cudaEventDisableTiming) != cudaSuccess) {
    return DeviceError(device.name + ": nvJPEG did not start: no stream for it");
  }
  // The decode state comes with the first Decode: a decoder that only checks never needs one.
  if (engine == GpuJpegEngine::kGpuHuffman) {
    if (Status started = impl->StartGpuHuffman(); !started.ok()) return started;
  }
  const nvjpegStatus_t status = nvjpegJpegStreamCreate(impl->handle, &impl->parser);
  if (status != NVJPEG_STATUS_SUCCESS) return DeviceError(device.name + ": nvJPEG did not start: " + NvjpegError(status));
  return std::unique_ptr<GpuJpegDecoder>(new GpuJpegDecoder(std::move(impl)));
}

Status GpuJpegDecoder::Check(Input* input) {
  const auto start = std::chrono::steady_clock::now();
  Status checked = impl_->Check(input);
  impl_->check_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return checked;
}

std::vector<Result<RgbImage>> GpuJpegDecoder::Decode(const std::vector<Input>& inputs) {
  Impl& d = *impl_;
  std::vector<Result<RgbImage>> results(inputs.size(), Result<RgbImage>(Unsupported("not decoded")));
  c10::cuda::CUDAGuard device_guard(static_cast<c10::DeviceIndex>(d.device.index));
  c10::cuda::CUDAStreamGuard stream_guard(*d.pixel_stream);
  std::vector<size_t> batch;  // inputs that go to nvJPEG
  std::vector<const unsigned char*> data;
  std::vector<size_t> lengths;
  std::vector<nvjpegImage_t> outputs;
  std::vector<std::pair<int64_t, int64_t>> sizes;  // height, width as stored
  std::vector<at::Tensor> pixels;
  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  Status status = CatchTorch("GPU JPEG decode", [&] {
    auto start = Clock::now();
    for (size_t i = 0; i < inputs.size(); ++i) {
      Input in = inputs[i];
      if (in.width == 0 || in.height == 0) {
        const Status checked = d.Check(&in);
        if (!checked.ok()) {
          results[i] = checked;
          continue;
        }
      }
      batch.push_back(i);
      data.push_back(in.data);
      lengths.push_back(in.size);
      nvjpegImage_t out{};
      out.pitch[0] = in.width * 3u;
      outputs.push_back(out);
      sizes.push_back({in.height, in.width});
    }
    if (batch.empty()) return;
    // One allocation for the batch's pixels, each photo a view of it: 64 allocations of 36 MB
    // each cost the caching allocator more than the decode when streams hold blocks back.
    int64_t total = 0;
    for (const auto& [height, width] : sizes) total += static_cast<int64_t>(height) * width * 3;
    const at::Tensor all = at::empty({total}, at::TensorOptions().dtype(at::kByte).device(at::kCUDA, d.device.index));
    int64_t offset = 0;
    for (size_t k = 0; k < sizes.size(); ++k) {
      const auto [height, width] = sizes[k];
      pixels.push_back(all.narrow(0, offset, height * width * 3).view({height, width, 3}));
      outputs[k].channel[0] = pixels.back().data_ptr<uint8_t>();
      offset += height * width * 3;
    }
    d.setup_s += seconds_since(start);
    start = Clock::now();
    // The previous batch decoded (one decode state), and the pixel stream's earlier work done:
    // nvJPEG writes `all` from a stream the allocator does not know.
    d.pixel_stream->synchronize();
    CheckCuda(cudaStreamSynchronize(d.decode_stream), "nvJPEG stream");
    d.wait_s += seconds_since(start);
    start = Clock::now();
    const int n = static_cast<int>(batch.size());
    std::vector<nvjpegStatus_t> statuses;
    {
      ContextScope in_own(d.library->own);
      statuses = d.gpu_huffman ? d.QueueEach(data, lengths, outputs)
                               : std::vector<nvjpegStatus_t>(batch.size(), d.QueueBatched(data, lengths, outputs));
      CheckCuda(cudaEventRecord(d.decoded, d.decode_stream), "nvJPEG event");
    }
    if (!d.gpu_huffman && statuses.front() != NVJPEG_STATUS_SUCCESS && !d.warned_batch_failure) {
      // One file nvJPEG's checks let through can fail the whole batch: all go to the CPU.
      spdlog::info("{}: nvJPEG batch failed ({}); its files are decoded on the CPU", d.device.name,
                   NvjpegError(statuses.front()));
      d.warned_batch_failure = true;
    }
    // `written` follows the decode on the pixel stream (a wait across contexts is allowed):
    // queued, not done. Whoever reads the pixels waits for it on their own stream.
    CheckCuda(cudaStreamWaitEvent(d.pixel_stream->stream(), d.decoded, 0), "nvJPEG event");
    auto written = std::make_shared<c10::Event>(c10::DeviceType::CUDA);
    written->record(*d.pixel_stream);
    for (size_t k = 0; k < batch.size(); ++k) {
      if (statuses[k] != NVJPEG_STATUS_SUCCESS) {
        results[batch[k]] = Unsupported(NvjpegError(statuses[k]));
        continue;
      }
      const Input& in = inputs[batch[k]];
      auto device_pixels = std::make_shared<DevicePixels>();
      device_pixels->hwc = pixels[k];
      device_pixels->orientation = in.orientation;
      device_pixels->written = written;
      const bool turned = in.orientation >= 5;  // 5..8 swap width and height
      RgbImage image;
      image.height = image.full_height = static_cast<int>(pixels[k].size(turned ? 1 : 0));
      image.width = image.full_width = static_cast<int>(pixels[k].size(turned ? 0 : 1));
      image.device_pixels = std::move(device_pixels);
      results[batch[k]] = std::move(image);
    }
    d.decode_s += seconds_since(start);
    if (d.batches == 0) {  // where a cold start goes (-v)
      spdlog::debug("{}: first nvJPEG batch, {} files: setting up {:.3f} s, waiting {:.3f} s, queueing the decode {:.3f} s",
                    d.device.name, n, d.setup_s, d.wait_s, d.decode_s);
    }
    d.files += std::count(statuses.begin(), statuses.end(), NVJPEG_STATUS_SUCCESS);
    ++d.batches;
  });
  if (!status.ok()) {
    for (size_t i : batch) results[i] = status;
  }
  return results;
}

bool GpuJpegDecoder::has_own_context() const { return impl_->library->own != nullptr; }

GpuJpegDecoder::GpuJpegDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GpuJpegDecoder::~GpuJpegDecoder() = default;
const std::string& GpuJpegDecoder::backend() const { return impl_->backend; }

}  // namespace mediadex::engine
