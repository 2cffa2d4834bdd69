// WebP through libwebp (lossy and lossless; animations are refused).
#include <webp/decode.h>

#include <algorithm>
#include <cstring>
#include <memory>
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

  // The incremental decoder cannot tell a file cut short from data still to come: the RIFF
  // size must be there whole, as WebPDecode requires.
  if (size >= 12 && std::memcmp(data, "RIFF", 4) == 0 && ReadLe32(data + 4) > size - 8) {
    return Corrupt("truncated or corrupt WebP: the RIFF header declares " + std::to_string(ReadLe32(data + 4)) +
                   " bytes but the file has " + std::to_string(size - 8) + " after it");
  }
  RgbImage image;
  image.width = image.full_width = features.width;
  image.height = image.full_height = features.height;
  image.pixels.resize(static_cast<size_t>(image.width) * image.height * 3);
  // MODE_RGB drops alpha without compositing, like TF.js. Incrementally, 256 KB of the file at
  // a time (WebPIUpdate reads it in place), so that the time limit is checked in between.
  struct IdecDeleter {
    void operator()(WebPIDecoder* d) const { WebPIDelete(d); }
  };
  std::unique_ptr<WebPIDecoder, IdecDeleter> idec(
      WebPINewRGB(MODE_RGB, image.pixels.data(), image.pixels.size(), image.width * 3));
  if (!idec) return OutOfMemory("cannot create a WebP decoder");
  const Deadline deadline(options.max_decode_seconds);
  VP8StatusCode decoded = VP8_STATUS_SUSPENDED;
  for (size_t fed = 0; decoded == VP8_STATUS_SUSPENDED && fed < size;) {
    if (deadline.Passed()) return deadline.Error();
    fed = std::min(size, fed + (256u << 10));
    decoded = WebPIUpdate(idec.get(), data, fed);
  }
  if (decoded != VP8_STATUS_OK) {
    return Corrupt(std::string("truncated or corrupt WebP: cannot decode the bitstream (") +
                   WebpStatusText(decoded == VP8_STATUS_SUSPENDED ? VP8_STATUS_NOT_ENOUGH_DATA : decoded) + ")");
  }
  if (options.apply_orientation) ApplyOrientation(WebpOrientation(data, size), &image);
  return image;
}

}  // namespace mediadex::media::internal
