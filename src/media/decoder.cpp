// Format sniffing, the pixel limit and file reading; the per-format work is in decode_*.cpp.
#include "media/decoder.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "media/decode_internal.h"
#include "media/media_file.h"

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

bool IsHeifBrand(const uint8_t* b) {
  static const char* const kBrands[] = {"heic", "heix", "hevc", "hevx", "heim", "heis",
                                        "mif1", "msf1", "avif", "avis"};
  for (const char* brand : kBrands) {
    if (std::memcmp(b, brand, 4) == 0) return true;
  }
  return false;
}

// ISO-BMFF "ftyp" box whose major or a compatible brand is a HEIF one (not mp4/mov video).
bool IsHeif(const uint8_t* data, size_t size) {
  if (size < 16 || std::memcmp(data + 4, "ftyp", 4) != 0) return false;
  size_t box = (static_cast<size_t>(data[0]) << 24) | (data[1] << 16) | (data[2] << 8) | data[3];
  if (box < 16 || box > size) box = size < 64 ? size : 64;
  if (IsHeifBrand(data + 8)) return true;
  for (size_t pos = 16; pos + 4 <= box; pos += 4) {
    if (IsHeifBrand(data + pos)) return true;
  }
  return false;
}

// "BM" and a DIB header size that Windows bitmaps use (12, 40, 52, 56, 64, 108, 124).
bool IsBmp(const uint8_t* data, size_t size) {
  if (size < 18 || data[0] != 'B' || data[1] != 'M') return false;
  const uint32_t dib = data[14] | (data[15] << 8) | (data[16] << 16) | (static_cast<uint32_t>(data[17]) << 24);
  return dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124;
}

}  // namespace

Status CheckPixelLimit(uint64_t width, uint64_t height, uint64_t max_pixels) {
  const uint64_t pixels = width * height;  // both < 2^32, so no overflow
  if (pixels <= max_pixels) return Status::Ok();
  return InvalidArgument("image is " + std::to_string(width) + "x" + std::to_string(height) +
                         " (" + Megapixels(pixels) + " MP), over the " + Megapixels(max_pixels) +
                         " MP limit (--max-pixels)");
}

Status Deadline::Error() const {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "decoding took over %g s (--max-decode-seconds)", seconds_);
  return InvalidArgument(buf);
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
  if (size >= 6 && (std::memcmp(data, "GIF87a", 6) == 0 || std::memcmp(data, "GIF89a", 6) == 0)) {
    return ImageFormat::kGif;
  }
  if (size >= 8 && (std::memcmp(data, "II*\0", 4) == 0 || std::memcmp(data, "MM\0*", 4) == 0 ||
                    std::memcmp(data, "II+\0", 4) == 0 || std::memcmp(data, "MM\0+", 4) == 0)) {
    return ImageFormat::kTiff;  // classic and BigTIFF
  }
  if (internal::IsHeif(data, size)) return ImageFormat::kHeif;
  if (internal::IsBmp(data, size)) return ImageFormat::kBmp;
  return ImageFormat::kUnknown;
}

const char* ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kWebp: return "WebP";
    case ImageFormat::kHeif: return "HEIF";
    case ImageFormat::kTiff: return "TIFF";
    case ImageFormat::kGif: return "GIF";
    case ImageFormat::kBmp: return "BMP";
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
    case ImageFormat::kHeif: return internal::DecodeHeif(data, size, options);
    case ImageFormat::kTiff: return internal::DecodeTiff(data, size, options);
    case ImageFormat::kGif: return internal::DecodeGif(data, size, options);
    case ImageFormat::kBmp: return internal::DecodeBmp(data, size, options);
    case ImageFormat::kUnknown: break;
  }
  return Unsupported("not a supported image (JPEG, PNG, WebP, HEIF, TIFF, GIF, BMP)");
}

Result<RgbImage> DecodeFile(const std::string& path, const DecodeOptions& options) {
  auto file = MediaFile::Open(path);  // regular files only: a FIFO or /dev/zero is refused
  if (!file.ok()) return file.status();
  auto bytes = file->ReadAll();
  if (!bytes.ok()) return bytes.status();
  return DecodeImage(bytes->data(), bytes->size(), options);
}

}  // namespace mediadex::media
