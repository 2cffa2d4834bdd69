// WebP through libwebp (lossy and lossless; animations are refused).
#include <webp/decode.h>

#include <cstring>
#include <string>

#include "media/decode_internal.h"

namespace mediadex::media::internal {
namespace {

uint32_t ReadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// The orientation in the RIFF "EXIF" chunk of an extended-format WebP, or 1.
int WebpOrientation(const uint8_t* data, size_t size) {
  size_t pos = 12;  // "RIFF" size "WEBP"
  while (pos + 8 <= size) {
    const uint32_t chunk_size = ReadLe32(data + pos + 4);
    const size_t available = size - (pos + 8);
    if (std::memcmp(data + pos, "EXIF", 4) == 0) {
      return ExifOrientation(data + pos + 8, chunk_size < available ? chunk_size : available);
    }
    if (chunk_size > available) break;
    pos += 8 + static_cast<size_t>(chunk_size) + (chunk_size & 1);  // chunks are padded to even
  }
  return 1;
}

const char* WebpStatusText(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "not enough data";
    case VP8_STATUS_OK: break;
  }
  return "unknown error";
}

}  // namespace

Result<RgbImage> DecodeWebp(const uint8_t* data, size_t size, const DecodeOptions& options) {
  WebPBitstreamFeatures features;
  const VP8StatusCode status = WebPGetFeatures(data, size, &features);
  if (status != VP8_STATUS_OK) {
    return Corrupt(std::string("truncated or corrupt WebP: ") + WebpStatusText(status));
  }
  if (features.has_animation) return Unsupported("animated WebP is not supported");
  if (features.width <= 0 || features.height <= 0) return Corrupt("truncated or corrupt WebP: no image size");
  MDX_RETURN_IF_ERROR(CheckPixelLimit(features.width, features.height, options.max_pixels));

  RgbImage image;
  image.width = image.full_width = features.width;
  image.height = image.full_height = features.height;
  image.pixels.resize(static_cast<size_t>(image.width) * image.height * 3);
  // MODE_RGB drops alpha without compositing, like TF.js.
  if (WebPDecodeRGBInto(data, size, image.pixels.data(), image.pixels.size(), image.width * 3) == nullptr) {
    return Corrupt("truncated or corrupt WebP: cannot decode the bitstream");
  }
  if (options.apply_orientation) ApplyOrientation(WebpOrientation(data, size), &image);
  return image;
}

}  // namespace mediadex::media::internal
