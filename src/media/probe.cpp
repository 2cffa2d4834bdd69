// ProbeImage: sizes, EXIF facts and the memory a decode will take, from headers only.
// JPEG/PNG/WebP are probed here; the other formats by their decode_*.cpp (Probe*()).
#include "media/probe.h"

#include <turbojpeg.h>
#include <webp/decode.h>

#include <cstring>
#include <memory>
#include <string>

#include "media/decode_internal.h"

namespace mediadex::media {
namespace {

using internal::HeaderInfo;
using internal::kDecoderOverheadBytes;

uint32_t Be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}
uint32_t Le32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

// The CRC-32 of a PNG chunk's type and data (bitwise: only eXIf chunks are checked).
uint32_t PngChunkCrc(const uint8_t* type_and_data, size_t size) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) {
    crc ^= type_and_data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

Result<HeaderInfo> ProbeJpeg(const uint8_t* data, size_t size, const DecodeOptions& options) {
  struct TjDeleter {
    void operator()(void* h) const { tjDestroy(h); }
  };
  std::unique_ptr<void, TjDeleter> handle(tjInitDecompress());
  if (!handle) return OutOfMemory("cannot create a TurboJPEG decompressor");
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), data, static_cast<unsigned long>(size), &width, &height, &subsamp,
                          &colorspace) != 0) {
    return Corrupt(std::string("truncated or corrupt JPEG: ") + tjGetErrorStr2(handle.get()));
  }
  if (width <= 0 || height <= 0) return Corrupt("truncated or corrupt JPEG: no image size");
  MDX_RETURN_IF_ERROR(internal::CheckPixelLimit(width, height, options.max_pixels));
  MDX_RETURN_IF_ERROR(internal::CheckJpegDeclaredSizes(data, size));
  HeaderInfo info;
  info.width = width;
  info.height = height;
  // Markers before the first scan: the EXIF block and whether the frame is progressive.
  bool progressive = false, have_exif = false;
  size_t pos = 2;
  while (pos + 4 <= size && data[pos] == 0xFF) {
    const uint8_t marker = data[pos + 1];
    if (marker == 0xFF) { ++pos; continue; }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) { pos += 2; continue; }
    if (marker == 0xDA || marker == 0xD9) break;
    const size_t length = (static_cast<size_t>(data[pos + 2]) << 8) | data[pos + 3];
    if (length < 2) break;
    if (marker == 0xC2 || marker == 0xC6 || marker == 0xCA || marker == 0xCE) progressive = true;
    const uint8_t* payload = data + pos + 4;
    const size_t available = size - (pos + 4);
    const size_t payload_size = length - 2 < available ? length - 2 : available;
    if (marker == 0xE1 && !have_exif && payload_size >= 6 && std::memcmp(payload, "Exif\0\0", 6) == 0) {
      have_exif = true;
      const internal::ExifFacts exif = internal::ReadExif(payload, payload_size);
      info.orientation = exif.orientation;
      info.capture_time = exif.capture_time;
    }
    pos += 2 + length;
  }
  // Same scale choice as DecodeJpeg (the target is upright, the scale works on stored axes).
  const bool rotates = options.apply_orientation && info.orientation != 1;
  const bool swap = options.apply_orientation && internal::OrientationSwapsAxes(info.orientation);
  int out_w = 0, out_h = 0;
  internal::JpegScaledSize(width, height, swap ? options.target_height : options.target_width,
                           swap ? options.target_width : options.target_height, &out_w, &out_h);
  const uint64_t out_pixels = static_cast<uint64_t>(out_w) * out_h;
  const bool cmyk = colorspace == TJCS_CMYK || colorspace == TJCS_YCCK;
  const int components = cmyk ? 4 : (colorspace == TJCS_GRAY ? 1 : 3);
  uint64_t bytes = out_pixels * 3;              // the output
  if (cmyk) bytes += out_pixels * 4;            // CMYK scratch
  if (rotates) bytes += out_pixels * 3;         // orientation copy
  // Progressive files keep every DCT coefficient (2 bytes each, full resolution) in memory.
  if (progressive) bytes += static_cast<uint64_t>(width + 15) * (height + 15) * components * 2;
  // libjpeg's per-row buffers: a few MCU rows at full width.
  bytes += static_cast<uint64_t>(width + 15) * components * 16 * 4;
  info.decode_bytes = bytes + kDecoderOverheadBytes;
  return info;
}

Result<HeaderInfo> ProbePng(const uint8_t* data, size_t size, const DecodeOptions& options) {
  // Signature, then IHDR: length, "IHDR", width, height, depth, colour type, ...
  if (size < 8 + 8 + 13 || std::memcmp(data + 12, "IHDR", 4) != 0) {
    return Corrupt("truncated or corrupt PNG: no IHDR chunk");
  }
  const uint32_t width = Be32(data + 16), height = Be32(data + 20);
  const int color_type = data[25];
  if (width == 0 || height == 0 || width > 0x7FFFFFFF || height > 0x7FFFFFFF) {
    return Corrupt("truncated or corrupt PNG: bad image size");
  }
  MDX_RETURN_IF_ERROR(internal::CheckPixelLimit(width, height, options.max_pixels));
  MDX_RETURN_IF_ERROR(internal::CheckPngDeclaredSizes(data, size, options.max_pixels));
  HeaderInfo info;
  info.width = static_cast<int>(width);
  info.height = static_cast<int>(height);
  bool trns = false, have_exif = false;
  // Chunks before the first IDAT: libpng reads eXIf and tRNS only there too. It keeps the first
  // eXIf with an intact CRC and a byte order ("MM" or "II") and drops the others; so does this,
  // or the probe and the decoder would disagree on the photo's orientation.
  size_t pos = 8;
  while (pos + 12 <= size) {
    const uint32_t length = Be32(data + pos);
    const uint8_t* type = data + pos + 4;
    if (std::memcmp(type, "IDAT", 4) == 0 || length > size - pos - 12) break;
    if (std::memcmp(type, "tRNS", 4) == 0) trns = true;
    const uint8_t* payload = data + pos + 8;
    if (std::memcmp(type, "eXIf", 4) == 0 && !have_exif && length >= 2 &&
        (payload[0] == 'M' || payload[0] == 'I') && payload[1] == payload[0] &&
        PngChunkCrc(type, 4 + static_cast<size_t>(length)) == Be32(payload + length)) {
      have_exif = true;
      const internal::ExifFacts exif = internal::ReadExif(payload, length);
      info.orientation = exif.orientation;
      info.capture_time = exif.capture_time;
    }
    pos += 12 + static_cast<size_t>(length);
  }
  const uint64_t pixels = static_cast<uint64_t>(width) * height;
  uint64_t bytes = pixels * 3;
  if (color_type == 3 && trns) bytes += pixels * 4;  // palette + tRNS decodes as RGBA first
  if (options.apply_orientation && info.orientation != 1) bytes += pixels * 3;
  bytes += static_cast<uint64_t>(width) * 8 * 2;     // libpng's row buffers (16-bit RGBA)
  info.decode_bytes = bytes + kDecoderOverheadBytes;
  return info;
}

Result<HeaderInfo> ProbeWebp(const uint8_t* data, size_t size, const DecodeOptions& options) {
  WebPBitstreamFeatures features;
  if (WebPGetFeatures(data, size, &features) != VP8_STATUS_OK) {
    return Corrupt("truncated or corrupt WebP: cannot read the header");
  }
  if (features.has_animation) return Unsupported("animated WebP is not supported");
  if (features.width <= 0 || features.height <= 0) return Corrupt("truncated or corrupt WebP: no image size");
  MDX_RETURN_IF_ERROR(internal::CheckPixelLimit(features.width, features.height, options.max_pixels));
  HeaderInfo info;
  info.width = features.width;
  info.height = features.height;
  size_t pos = 12;
  while (pos + 8 <= size) {
    const uint32_t chunk_size = Le32(data + pos + 4);
    const size_t available = size - (pos + 8);
    if (std::memcmp(data + pos, "EXIF", 4) == 0) {
      const internal::ExifFacts exif = internal::ReadExif(data + pos + 8, chunk_size < available ? chunk_size : available);
      info.orientation = exif.orientation;
      info.capture_time = exif.capture_time;
      break;
    }
    if (chunk_size > available) break;
    pos += 8 + static_cast<size_t>(chunk_size) + (chunk_size & 1);
  }
  const uint64_t pixels = static_cast<uint64_t>(info.width) * info.height;
  // Output, libwebp's ARGB image (lossless) or alpha plane, and the orientation copy.
  uint64_t bytes = pixels * 3 + pixels * 4 + pixels;
  if (options.apply_orientation && info.orientation != 1) bytes += pixels * 3;
  info.decode_bytes = bytes + kDecoderOverheadBytes;
  return info;
}

}  // namespace

Result<ImageInfo> ProbeImage(const uint8_t* data, size_t size, const DecodeOptions& options) {
  if (data == nullptr || size == 0) return Corrupt("empty file");
  const ImageFormat format = SniffFormat(data, size);
  Result<HeaderInfo> header = Unsupported("not a supported image (JPEG, PNG, WebP, HEIF, TIFF, GIF, BMP)");
  switch (format) {
    case ImageFormat::kJpeg: header = ProbeJpeg(data, size, options); break;
    case ImageFormat::kPng: header = ProbePng(data, size, options); break;
    case ImageFormat::kWebp: header = ProbeWebp(data, size, options); break;
    case ImageFormat::kHeif: header = internal::ProbeHeif(data, size, options); break;
    case ImageFormat::kTiff: header = internal::ProbeTiff(data, size, options); break;
    case ImageFormat::kGif: header = internal::ProbeGif(data, size, options); break;
    case ImageFormat::kBmp: header = internal::ProbeBmp(data, size, options); break;
    case ImageFormat::kUnknown: break;
  }
  if (!header.ok()) return header.status();
  ImageInfo info;
  info.format = format;
  info.orientation = header->orientation;
  info.capture_time = header->capture_time;
  info.decode_bytes = header->decode_bytes;
  const bool swap = options.apply_orientation && internal::OrientationSwapsAxes(header->orientation);
  info.width = swap ? header->height : header->width;
  info.height = swap ? header->width : header->height;
  info.decode_width = info.width;
  info.decode_height = info.height;
  if (format == ImageFormat::kJpeg) {  // DCT scaling: the buffer may be smaller than the photo
    const int tw = swap ? options.target_height : options.target_width;
    const int th = swap ? options.target_width : options.target_height;
    int w = 0, h = 0;
    internal::JpegScaledSize(header->width, header->height, tw, th, &w, &h);
    info.decode_width = swap ? h : w;
    info.decode_height = swap ? w : h;
  }
  return info;
}

}  // namespace mediadex::media
