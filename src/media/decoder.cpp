// Format sniffing, the pixel limit and file reading; the per-format work is in decode_*.cpp.
#include "media/decoder.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "media/decode_internal.h"

namespace mediadex::media {
namespace internal {

namespace {
std::string Megapixels(uint64_t pixels) {
  char buf[32];
  if (pixels % 1'000'000 == 0) {
    std::snprintf(buf, sizeof(buf), "%llu", static_cast<unsigned long long>(pixels / 1'000'000));
  } else if (pixels >= 1'000'000) {
    std::snprintf(buf, sizeof(buf), "%.1f", static_cast<double>(pixels) / 1e6);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2g", static_cast<double>(pixels) / 1e6);
  }
  return buf;
}
}  // namespace

Status CheckPixelLimit(uint64_t width, uint64_t height, uint64_t max_pixels) {
  const uint64_t pixels = width * height;  // both < 2^32, so no overflow
  if (pixels <= max_pixels) return Status::Ok();
  return InvalidArgument("image is " + std::to_string(width) + "x" + std::to_string(height) +
                         " (" + Megapixels(pixels) + " MP), over the " + Megapixels(max_pixels) +
                         " MP limit (--max-pixels)");
}

}  // namespace internal

ImageFormat SniffFormat(const uint8_t* data, size_t size) {
  static constexpr uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (data == nullptr) return ImageFormat::kUnknown;
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) return ImageFormat::kJpeg;
  if (size >= 8 && std::memcmp(data, kPng, 8) == 0) return ImageFormat::kPng;
  if (size >= 12 && std::memcmp(data, "RIFF", 4) == 0 && std::memcmp(data + 8, "WEBP", 4) == 0) {
    return ImageFormat::kWebp;
  }
  return ImageFormat::kUnknown;
}

const char* ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kWebp: return "WebP";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

Result<RgbImage> DecodeImage(const uint8_t* data, size_t size, const DecodeOptions& options) {
  if (data == nullptr || size == 0) return Corrupt("empty file");
  switch (SniffFormat(data, size)) {
    case ImageFormat::kJpeg: return internal::DecodeJpeg(data, size, options);
    case ImageFormat::kPng: return internal::DecodePng(data, size, options);
    case ImageFormat::kWebp: return internal::DecodeWebp(data, size, options);
    case ImageFormat::kUnknown: break;
  }
  return Unsupported("not a supported image (JPEG, PNG, WebP)");
}

Result<RgbImage> DecodeFile(const std::string& path, const DecodeOptions& options) {
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  errno = 0;
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return NotFound(std::strerror(err));
    return IOError(std::strerror(err));
  }
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  for (;;) {
    const size_t n = std::fread(chunk, 1, sizeof(chunk), file.get());
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (n < sizeof(chunk)) break;
  }
  if (std::ferror(file.get())) {
    // fread on a directory fails with EISDIR here.
    return IOError(std::strerror(errno != 0 ? errno : EIO));
  }
  return DecodeImage(bytes.data(), bytes.size(), options);
}

}  // namespace mediadex::media
