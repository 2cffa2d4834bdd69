// Windows BMP: a small reader for what cameras and tools write (BITMAPCOREHEADER and
// BITMAPINFOHEADER..V5; 1/4/8-bit palette, 16/24/32-bit with or without bit fields;
// bottom-up and top-down). RLE, JPEG/PNG-in-BMP and OS/2 variants are Unsupported.
#include <cstring>
#include <string>

#include "media/decode_internal.h"

namespace mediadex::media::internal {
namespace {

uint32_t Le16(const uint8_t* p) { return p[0] | (p[1] << 8); }
uint32_t Le32(const uint8_t* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

constexpr uint32_t kBiRgb = 0, kBiRle8 = 1, kBiRle4 = 2, kBiBitfields = 3, kBiJpeg = 4, kBiPng = 5,
                   kBiAlphaBitfields = 6;

struct BmpHeader {
  int width = 0;
  int height = 0;        // always positive
  bool top_down = false;
  int bpp = 0;
  uint32_t masks[3] = {0, 0, 0};  // R, G, B for 16/32-bit
  uint32_t palette_offset = 0;    // where the colour table starts
  uint32_t palette_entry = 4;     // bytes per colour (3 for core headers)
  uint32_t palette_count = 0;
  uint32_t pixel_offset = 0;
  size_t stride = 0;
};

Status BmpCorrupt(const std::string& why) { return Corrupt("truncated or corrupt BMP: " + why); }

Result<BmpHeader> ParseHeader(const uint8_t* data, size_t size, uint64_t max_pixels) {
  if (size < 26) return BmpCorrupt("file too short for its header");
  BmpHeader h;
  h.pixel_offset = Le32(data + 10);
  const uint32_t dib = Le32(data + 14);
  if (14 + static_cast<size_t>(dib) > size) return BmpCorrupt("file too short for its header");
  const uint8_t* d = data + 14;
  uint32_t compression = kBiRgb;
  uint32_t colors_used = 0;
  int64_t height = 0;
  if (dib == 12) {  // BITMAPCOREHEADER: 16-bit sizes, 3-byte palette entries
    h.width = static_cast<int>(Le16(d + 4));
    height = static_cast<int16_t>(Le16(d + 6));
    h.bpp = static_cast<int>(Le16(d + 10));
    h.palette_entry = 3;
  } else if (dib >= 40) {
    h.width = static_cast<int32_t>(Le32(d + 4));
    height = static_cast<int32_t>(Le32(d + 8));
    h.bpp = static_cast<int>(Le16(d + 14));
    compression = Le32(d + 16);
    colors_used = Le32(d + 32);
  } else {
    return Unsupported("BMP header of " + std::to_string(dib) + " bytes is not supported");
  }
  if (compression == kBiRle8 || compression == kBiRle4) return Unsupported("RLE-compressed BMP is not supported");
  if (compression == kBiJpeg || compression == kBiPng) return Unsupported("JPEG/PNG-in-BMP is not supported");
  if (compression != kBiRgb && compression != kBiBitfields && compression != kBiAlphaBitfields) {
    return Unsupported("BMP compression " + std::to_string(compression) + " is not supported");
  }
  if (h.width <= 0 || height == 0 || height == INT32_MIN) return BmpCorrupt("bad image size");
  h.top_down = height < 0;
  h.height = static_cast<int>(height < 0 ? -height : height);
  MDX_RETURN_IF_ERROR(CheckPixelLimit(h.width, h.height, max_pixels));
  switch (h.bpp) {
    case 1: case 4: case 8: case 16: case 24: case 32: break;
    default: return Unsupported("BMP with " + std::to_string(h.bpp) + " bits per pixel is not supported");
  }
  if (h.bpp <= 8) {
    h.palette_offset = 14 + dib;
    h.palette_count = colors_used == 0 || colors_used > (1u << h.bpp) ? (1u << h.bpp) : colors_used;
    if (compression != kBiRgb) return BmpCorrupt("palette image with bit fields");
  } else if (compression == kBiRgb) {
    if (h.bpp == 16) {  // 5-5-5
      h.masks[0] = 0x7C00; h.masks[1] = 0x03E0; h.masks[2] = 0x001F;
    } else {
      h.masks[0] = 0xFF0000; h.masks[1] = 0x00FF00; h.masks[2] = 0x0000FF;
    }
  } else {
    if (h.bpp == 24) return BmpCorrupt("24-bit image with bit fields");
    // Masks follow a 40-byte header, or are part of a larger one: same place either way.
    if (14 + 40 + 12 > size) return BmpCorrupt("file too short for its colour masks");
    for (int i = 0; i < 3; ++i) h.masks[i] = Le32(data + 14 + 40 + 4 * i);
  }
  h.stride = ((static_cast<size_t>(h.width) * h.bpp + 31) / 32) * 4;
  // Checked here, for the probe too: a header that claims more rows than the file holds
  // (uncompressed rows cannot be shorter) is refused before anything is budgeted or allocated.
  if (h.pixel_offset > size || static_cast<uint64_t>(h.stride) * h.height > size - h.pixel_offset) {
    return BmpCorrupt("pixel data ends early: the header declares " + std::to_string(h.width) + "x" +
                      std::to_string(h.height) + " at " + std::to_string(h.bpp) + " bits (" +
                      std::to_string(static_cast<uint64_t>(h.stride) * h.height) + " bytes from offset " +
                      std::to_string(h.pixel_offset) + ") but the file has " + std::to_string(size) + " bytes");
  }
  return h;
}

// Maps a masked field to 0..255.
uint8_t Field(uint32_t value, uint32_t mask) {
  if (mask == 0) return 0;
  int shift = 0;
  while (((mask >> shift) & 1) == 0) ++shift;
  const uint32_t max = mask >> shift;
  const uint32_t v = (value & mask) >> shift;
  return static_cast<uint8_t>((static_cast<uint64_t>(v) * 255 + max / 2) / max);
}

}  // namespace

Result<HeaderInfo> ProbeBmp(const uint8_t* data, size_t size, const DecodeOptions& options) {
  auto header = ParseHeader(data, size, options.max_pixels);
  if (!header.ok()) return header.status();
  HeaderInfo info;
  info.width = header->width;
  info.height = header->height;
  info.decode_bytes = static_cast<uint64_t>(header->width) * header->height * 3 + kDecoderOverheadBytes;
  return info;
}

Result<RgbImage> DecodeBmp(const uint8_t* data, size_t size, const DecodeOptions& options) {
  auto parsed = ParseHeader(data, size, options.max_pixels);
  if (!parsed.ok()) return parsed.status();
  const BmpHeader& h = *parsed;
  uint8_t palette[256][3] = {};
  if (h.bpp <= 8) {
    if (h.palette_offset + static_cast<size_t>(h.palette_count) * h.palette_entry > size) {
      return BmpCorrupt("file too short for its colour table");
    }
    for (uint32_t i = 0; i < h.palette_count; ++i) {
      const uint8_t* e = data + h.palette_offset + i * h.palette_entry;  // B, G, R
      palette[i][0] = e[2];
      palette[i][1] = e[1];
      palette[i][2] = e[0];
    }
  }
  RgbImage image;
  image.width = image.full_width = h.width;
  image.height = image.full_height = h.height;
  image.pixels.resize(static_cast<size_t>(h.width) * h.height * 3);
  const Deadline deadline(options.max_decode_seconds);
  for (int y = 0; y < h.height; ++y) {
    if (y % 64 == 0 && deadline.Passed()) return deadline.Error();
    const uint8_t* row = data + h.pixel_offset + h.stride * (h.top_down ? y : h.height - 1 - y);
    uint8_t* out = image.pixels.data() + static_cast<size_t>(y) * h.width * 3;
    for (int x = 0; x < h.width; ++x, out += 3) {
      switch (h.bpp) {
        case 1: case 4: case 8: {
          const size_t bit = static_cast<size_t>(x) * h.bpp;
          const int index = (row[bit / 8] >> (8 - h.bpp - bit % 8)) & ((1 << h.bpp) - 1);
          // An index past a short colour table is black, as Windows draws it.
          if (static_cast<uint32_t>(index) < h.palette_count) std::memcpy(out, palette[index], 3);
          else out[0] = out[1] = out[2] = 0;
          break;
        }
        case 24:
          out[0] = row[x * 3 + 2];
          out[1] = row[x * 3 + 1];
          out[2] = row[x * 3];
          break;
        case 16:
        case 32: {
          const uint32_t v = h.bpp == 16 ? Le16(row + x * 2) : Le32(row + x * 4);
          out[0] = Field(v, h.masks[0]);
          out[1] = Field(v, h.masks[1]);
          out[2] = Field(v, h.masks[2]);
          break;
        }
      }
    }
  }
  return image;
}

}  // namespace mediadex::media::internal
