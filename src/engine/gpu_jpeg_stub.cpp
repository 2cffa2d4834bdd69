// GPU JPEG decoding in a build without CUDA: every call says so (gpu_jpeg_nvjpeg.cpp is the real one).
#include "engine/gpu_jpeg.h"

namespace mediadex::engine {

struct GpuJpegDecoder::Impl {
  std::string backend;
};

bool GpuJpegDecoder::has_own_context() const { return false; }

Result<std::unique_ptr<GpuJpegDecoder>> GpuJpegDecoder::Create(const DeviceInfo&) {
  return Unsupported("GPU JPEG decoding needs a CUDA build of mediadex (docs/gpu.md)");
}

std::unique_ptr<GpuJpegDecoder::BackgroundStart> GpuJpegDecoder::StartInBackground(const DeviceInfo&) {
  return nullptr;
}

GpuJpegDecoder::BackgroundStart::~BackgroundStart() = default;

Result<std::unique_ptr<GpuJpegDecoder>> GpuJpegDecoder::AnotherWorker(GpuJpegEngine) const {
  return Unsupported("GPU JPEG decoding needs a CUDA build of mediadex (docs/gpu.md)");
}

Status GpuJpegDecoder::Check(Input*) { return Unsupported("no CUDA in this build"); }

std::vector<Result<RgbImage>> GpuJpegDecoder::Decode(const std::vector<Input>& inputs) {
  return std::vector<Result<RgbImage>>(inputs.size(), Result<RgbImage>(Unsupported("no CUDA in this build")));
}

GpuJpegDecoder::GpuJpegDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GpuJpegDecoder::~GpuJpegDecoder() = default;
const std::string& GpuJpegDecoder::backend() const { return impl_->backend; }

}  // namespace mediadex::engine
