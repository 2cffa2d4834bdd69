#include "engine/gpu_jpeg.h"

#include "engine/gpu_runtime.h"

#if defined(MEDIADEX_WITH_CUDA)
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <nvjpeg.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <optional>

#include "engine/torch_device.h"
#endif

namespace mediadex::engine {

bool JpegEndsWhole(const uint8_t* data, size_t size) {
  const size_t from = size > kJpegEndWindow ? size - kJpegEndWindow : 0;
  for (size_t i = size; i >= from + 2; --i) {
    if (data[i - 2] == 0xFF && data[i - 1] == 0xD9) return true;
  }
  return false;
}

#if defined(MEDIADEX_WITH_CUDA)
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

}  // namespace

// One nvJPEG library context per GPU, shared by its workers (nvJPEG's handle is thread-safe;
// starting the hardware backend is the slow part of making a decoder).
struct GpuJpegDecoder::Library {
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
    for (nvjpegJpegState_t state : spare_states) nvjpegJpegStateDestroy(state);
    if (handle) nvjpegDestroy(handle);
  }
};

namespace {
// Decode states StartLibrary makes ahead: the indexer's nvJPEG workers per GPU by default.
constexpr int kSpareStates = 1;
}  // namespace

struct GpuJpegDecoder::Impl {
  DeviceInfo device;
  // Its own stream, of high priority: the decode call returns only when its batch is nearly
  // done, and work of the network's beside it slows it (docs/performance.md).
  std::optional<DeviceStream> own_stream;
  std::optional<c10::cuda::CUDAStream> stream;  // own_stream, as nvJPEG and LibTorch take it
  std::shared_ptr<const Library> library;
  nvjpegHandle_t handle = nullptr;  // library->handle
  nvjpegJpegState_t state = nullptr;
  nvjpegJpegStream_t parser = nullptr;  // headers, for the per-file support check
  std::string backend;
  bool hardware = false;
  int initialized_batch = 0;
  bool warned_batch_failure = false;
  // Time in Check, in setting up batches (the checks Decode makes itself, allocation), waiting
  // for the previous batch, and in nvJPEG's batched decode (the hardware backend returns when
  // its batch is nearly done).
  double check_s = 0, setup_s = 0, wait_s = 0, decode_s = 0;
  int64_t files = 0, batches = 0;

  ~Impl() {
    if (files > 0 || check_s > 0) {
      spdlog::debug("{}: nvJPEG worker: checks {:.2f} s; {} files decoded in {} batches in {:.2f} s, with {:.2f} s "
                    "setting up batches and {:.2f} s waiting for a previous one",
                    device.name, check_s, files, batches, decode_s, setup_s, wait_s);
    }
    if (stream) stream->synchronize();  // nothing in flight on the state about to go
    if (parser) nvjpegJpegStreamDestroy(parser);
    if (state) nvjpegJpegStateDestroy(state);
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
};

namespace {

using LibraryResult = Result<std::shared_ptr<const GpuJpegDecoder::Library>>;

// Contexts that StartInBackground is making, per device index, until a Create or the token
// takes them.
std::mutex started_mu;
std::map<int, std::shared_future<LibraryResult>> started;  // GUARDED_BY(started_mu)

}  // namespace

LibraryResult GpuJpegDecoder::StartLibrary(const DeviceInfo& device) {
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device.index));
  const auto start = std::chrono::steady_clock::now();
  auto library = std::make_shared<Library>();
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
  spdlog::debug("{}: nvJPEG on the {} backend, started in {:.2f} s", device.name, library->backend,
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
  return Worker(device, std::move(library).value());
}

Result<std::unique_ptr<GpuJpegDecoder>> GpuJpegDecoder::AnotherWorker() const {
  return Worker(impl_->device, impl_->library);
}

Result<std::unique_ptr<GpuJpegDecoder>> GpuJpegDecoder::Worker(const DeviceInfo& device,
                                                              std::shared_ptr<const Library> library) {
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device.index));
  auto impl = std::make_unique<Impl>();
  impl->device = device;
  impl->own_stream.emplace(device, DeviceStream::Kind::kOwnHighPriority);
  impl->stream = c10::cuda::CUDAStream(*impl->own_stream->stream());
  impl->handle = library->handle;
  impl->backend = library->backend;
  impl->hardware = library->hardware;
  impl->library = std::move(library);
  // The decode state comes with the first Decode: a decoder that only checks never needs one.
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
  c10::cuda::CUDAStreamGuard stream_guard(*d.stream);
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
      const int64_t bytes = static_cast<int64_t>(height) * width * 3;
      pixels.push_back(all.narrow(0, offset, bytes).view({height, width, 3}));
      outputs[k].channel[0] = pixels.back().data_ptr<uint8_t>();
      offset += bytes;
    }
    if (d.state == nullptr) d.state = d.library->TakeSpareState();
    if (d.state == nullptr) {
      const nvjpegStatus_t made = nvjpegJpegStateCreate(d.handle, &d.state);
      if (made != NVJPEG_STATUS_SUCCESS) {
        d.state = nullptr;
        for (size_t i : batch) results[i] = DeviceError(d.device.name + ": nvJPEG: " + NvjpegError(made));
        return;
      }
    }
    d.setup_s += seconds_since(start);
    start = Clock::now();
    // The previous batch must be done with this state (and its stream) before the next goes in.
    d.stream->synchronize();
    d.wait_s += seconds_since(start);
    start = Clock::now();
    const int n = static_cast<int>(batch.size());
    nvjpegStatus_t s = NVJPEG_STATUS_SUCCESS;
    if (n != d.initialized_batch) {
      s = nvjpegDecodeBatchedInitialize(d.handle, d.state, n, 1, NVJPEG_OUTPUT_RGBI);
      d.initialized_batch = s == NVJPEG_STATUS_SUCCESS ? n : 0;
    }
    if (s == NVJPEG_STATUS_SUCCESS) {
      s = nvjpegDecodeBatched(d.handle, d.state, data.data(), lengths.data(), outputs.data(), d.stream->stream());
    }
    if (s != NVJPEG_STATUS_SUCCESS) {
      // One file nvJPEG's checks let through can fail the whole batch: all go to the CPU.
      if (!d.warned_batch_failure) {
        spdlog::info("{}: nvJPEG batch failed ({}); its files are decoded on the CPU", d.device.name, NvjpegError(s));
        d.warned_batch_failure = true;
      }
      for (size_t i : batch) results[i] = Unsupported(NvjpegError(s));
      d.initialized_batch = 0;
      return;
    }
    // Queued, not done: whoever reads the pixels waits for `written` on their own stream.
    auto written = std::make_shared<c10::Event>(c10::DeviceType::CUDA);
    written->record(*d.stream);
    for (size_t k = 0; k < batch.size(); ++k) {
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
    d.files += n;
    ++d.batches;
  });
  if (!status.ok()) {
    for (size_t i : batch) results[i] = status;
  }
  return results;
}

#else  // no CUDA in this build

struct GpuJpegDecoder::Impl {
  std::string backend;
};

Result<std::unique_ptr<GpuJpegDecoder>> GpuJpegDecoder::Create(const DeviceInfo&) {
  return Unsupported("GPU JPEG decoding needs a CUDA build of mediadex (docs/gpu.md)");
}

std::unique_ptr<GpuJpegDecoder::BackgroundStart> GpuJpegDecoder::StartInBackground(const DeviceInfo&) {
  return nullptr;
}

GpuJpegDecoder::BackgroundStart::~BackgroundStart() = default;

Result<std::unique_ptr<GpuJpegDecoder>> GpuJpegDecoder::AnotherWorker() const {
  return Unsupported("GPU JPEG decoding needs a CUDA build of mediadex (docs/gpu.md)");
}

Status GpuJpegDecoder::Check(Input*) { return Unsupported("no CUDA in this build"); }

std::vector<Result<RgbImage>> GpuJpegDecoder::Decode(const std::vector<Input>& inputs) {
  return std::vector<Result<RgbImage>>(inputs.size(), Result<RgbImage>(Unsupported("no CUDA in this build")));
}

#endif

GpuJpegDecoder::GpuJpegDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GpuJpegDecoder::~GpuJpegDecoder() = default;
const std::string& GpuJpegDecoder::backend() const { return impl_->backend; }

}  // namespace mediadex::engine
