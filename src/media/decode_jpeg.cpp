// JPEG through libjpeg-turbo's TurboJPEG API, decoded at a DCT scale near the requested size.
#include <turbojpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "media/decode_internal.h"

namespace mediadex::media::internal {
namespace {

struct TjDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};
using TjHandle = std::unique_ptr<void, TjDeleter>;

// What the markers before the first scan tell us that TurboJPEG does not.
struct JpegMarkers {
  int orientation = 1;
  bool adobe = false;  // APP14 "Adobe": CMYK stored inverted (Photoshop convention)
};

JpegMarkers ScanMarkers(const uint8_t* data, size_t size) {
  JpegMarkers markers;
  bool have_exif = false;
  size_t pos = 2;  // after SOI
  while (pos + 4 <= size) {
    if (data[pos] != 0xFF) break;
    const uint8_t marker = data[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) {  // no length field
      pos += 2;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) break;  // start of scan / end of image
    const size_t length = (static_cast<size_t>(data[pos + 2]) << 8) | data[pos + 3];
    if (length < 2) break;
    const uint8_t* payload = data + pos + 4;
    const size_t available = size - (pos + 4);
    const size_t payload_size = length - 2 < available ? length - 2 : available;
    if (marker == 0xE1 && !have_exif && payload_size >= 6 &&
        std::memcmp(payload, "Exif\0\0", 6) == 0) {
      have_exif = true;
      markers.orientation = ExifOrientation(payload, payload_size);
    } else if (marker == 0xEE && payload_size >= 5 && std::memcmp(payload, "Adobe", 5) == 0) {
      markers.adobe = true;
    }
    pos += 2 + length;
  }
  return markers;
}

// The smallest of 1/1, 1/2, 1/4, 1/8 whose output is still >= the target in both dimensions.
tjscalingfactor PickScale(int width, int height, int target_width, int target_height) {
  tjscalingfactor best = {1, 1};
  if (target_width <= 0 && target_height <= 0) return best;
  int count = 0;
  const tjscalingfactor* factors = tjGetScalingFactors(&count);
  if (factors == nullptr) return best;
  for (int i = 0; i < count; ++i) {
    const tjscalingfactor f = factors[i];
    if (f.num != 1 || (f.denom != 2 && f.denom != 4 && f.denom != 8)) continue;
    if (TJSCALED(width, f) < target_width || TJSCALED(height, f) < target_height) continue;
    if (f.denom > best.denom) best = f;
  }
  return best;
}

void CmykToRgb(const uint8_t* cmyk, size_t pixel_count, bool inverted, uint8_t* rgb) {
  // As TensorFlow's decoder: Adobe files store 255-C etc., so R = C'*K'/255 there.
  for (size_t i = 0; i < pixel_count; ++i, cmyk += 4, rgb += 3) {
    const int c = cmyk[0], m = cmyk[1], y = cmyk[2], k = cmyk[3];
    if (inverted) {
      rgb[0] = static_cast<uint8_t>(k * c / 255);
      rgb[1] = static_cast<uint8_t>(k * m / 255);
      rgb[2] = static_cast<uint8_t>(k * y / 255);
    } else {
      rgb[0] = static_cast<uint8_t>((255 - k) * (255 - c) / 255);
      rgb[1] = static_cast<uint8_t>((255 - k) * (255 - m) / 255);
      rgb[2] = static_cast<uint8_t>((255 - k) * (255 - y) / 255);
    }
  }
}

Status TjError(tjhandle handle) {
  return Corrupt(std::string("truncated or corrupt JPEG: ") + tjGetErrorStr2(handle));
}

}  // namespace

Status CheckJpegDeclaredSizes(const uint8_t* data, size_t size) {
  // The frame (SOF) and the first scan's header, walking the marker segments.
  int sof = 0, width = 0, height = 0, hmax = 1, vmax = 1;
  struct Component {
    int id, h, v;
  };
  std::vector<Component> components;
  std::vector<int> first_scan_ids;
  size_t pos = 2, scan_start = 0;
  while (pos + 4 <= size && data[pos] == 0xFF) {
    const uint8_t marker = data[pos + 1];
    if (marker == 0xFF) { ++pos; continue; }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) { pos += 2; continue; }
    if (marker == 0xD9) break;
    const size_t length = (static_cast<size_t>(data[pos + 2]) << 8) | data[pos + 3];
    if (length < 2 || length > size - pos - 2) break;
    const uint8_t* p = data + pos + 4;
    const bool is_sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_sof && sof == 0 && length >= 8) {
      sof = marker;
      height = (p[1] << 8) | p[2];
      width = (p[3] << 8) | p[4];
      for (int i = 0; i < p[5] && 6 + 3 * i + 2 < static_cast<int>(length - 2); ++i) {
        const int h = p[6 + 3 * i + 1] >> 4, v = p[6 + 3 * i + 1] & 15;
        components.push_back({p[6 + 3 * i], h > 0 ? h : 1, v > 0 ? v : 1});
        hmax = std::max(hmax, components.back().h);
        vmax = std::max(vmax, components.back().v);
      }
    }
    if (marker == 0xDA) {
      for (int i = 0; i < p[0] && 1 + 2 * i < static_cast<int>(length - 2); ++i) first_scan_ids.push_back(p[1 + 2 * i]);
      scan_start = pos + 2 + length;
      break;
    }
    pos += 2 + length;
  }
  if (scan_start == 0) return Status::Ok();  // TurboJPEG reports what is missing
  // Count the scans: entropy-coded data escapes 0xFF as FF 00, so any other FF xx (not a
  // restart marker) is a marker; segments with a length are skipped whole.
  int scans = 1;
  size_t first_scan_end = size;
  pos = scan_start;
  while (pos + 1 < size) {
    const uint8_t* ff = static_cast<const uint8_t*>(std::memchr(data + pos, 0xFF, size - pos - 1));
    if (ff == nullptr) break;
    pos = static_cast<size_t>(ff - data);
    const uint8_t marker = data[pos + 1];
    if (marker == 0x00 || marker == 0xFF || (marker >= 0xD0 && marker <= 0xD7)) { ++pos; continue; }
    if (first_scan_end == size) first_scan_end = pos;
    if (marker == 0xD9) break;
    if (marker == 0xDA && ++scans > kMaxJpegScans) {
      return InvalidArgument("JPEG has more than " + std::to_string(kMaxJpegScans) +
                             " scans (a CPU-time bomb; real encoders write about 10)");
    }
    if (pos + 4 > size) break;
    pos += 2 + ((static_cast<size_t>(data[pos + 2]) << 8) | data[pos + 3]);
  }
  // Huffman coding (SOF0..3, 5..7) spends at least one bit per block on its DC difference;
  // arithmetic coding (SOF9..15) can spend less, so it gets no such bound.
  if (sof > 0xC7 || width <= 0 || height <= 0) return Status::Ok();
  uint64_t min_blocks = UINT64_MAX;
  for (const Component& c : components) {
    if (std::find(first_scan_ids.begin(), first_scan_ids.end(), c.id) == first_scan_ids.end()) continue;
    const uint64_t cw = (static_cast<uint64_t>(width) * c.h + hmax - 1) / hmax;
    const uint64_t ch = (static_cast<uint64_t>(height) * c.v + vmax - 1) / vmax;
    min_blocks = std::min(min_blocks, ((cw + 7) / 8) * ((ch + 7) / 8));
  }
  const uint64_t scan_bytes = first_scan_end - scan_start;
  if (min_blocks == UINT64_MAX || min_blocks <= scan_bytes * 8) return Status::Ok();
  return Corrupt("truncated or corrupt JPEG: the frame declares " + std::to_string(width) + "x" +
                 std::to_string(height) + " (" + std::to_string(min_blocks) +
                 " blocks in its first scan) but that scan holds " + std::to_string(scan_bytes) +
                 " bytes, less than one bit per block");
}

void JpegScaledSize(int width, int height, int target_width, int target_height, int* out_width,
                    int* out_height) {
  const tjscalingfactor scale = PickScale(width, height, target_width, target_height);
  *out_width = TJSCALED(width, scale);
  *out_height = TJSCALED(height, scale);
}

Result<RgbImage> DecodeJpeg(const uint8_t* data, size_t size, const DecodeOptions& options) {
  const Deadline deadline(options.max_decode_seconds);  // checked after TurboJPEG's one call
  TjHandle handle(tjInitDecompress());
  if (!handle) return OutOfMemory("cannot create a TurboJPEG decompressor");
  int width = 0, height = 0, subsamp = 0, colorspace = 0;
  if (tjDecompressHeader3(handle.get(), data, static_cast<unsigned long>(size), &width, &height,
                          &subsamp, &colorspace) != 0) {
    return TjError(handle.get());
  }
  if (width <= 0 || height <= 0) return Corrupt("truncated or corrupt JPEG: no image size");
  MDX_RETURN_IF_ERROR(CheckPixelLimit(width, height, options.max_pixels));
  MDX_RETURN_IF_ERROR(CheckJpegDeclaredSizes(data, size));

  const JpegMarkers markers = ScanMarkers(data, size);
  const int orientation = options.apply_orientation ? markers.orientation : 1;
  // The target is upright; compare it with the stored axes it will end up on.
  const bool swap = OrientationSwapsAxes(orientation);
  const tjscalingfactor scale = PickScale(width, height, swap ? options.target_height : options.target_width,
                                          swap ? options.target_width : options.target_height);
  RgbImage image;
  image.width = TJSCALED(width, scale);
  image.height = TJSCALED(height, scale);
  image.full_width = width;
  image.full_height = height;
  const size_t pixel_count = static_cast<size_t>(image.width) * image.height;
  // Accurate DCT, fancy upsampling. TurboJPEG 2.1 has no memory limit or progress callback:
  // the pixel limit and CheckJpegDeclaredSizes bound its work; LIMITSCANS is its own cap (500).
  const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS;

  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    // TurboJPEG cannot output RGB from CMYK: decode CMYK and convert.
    std::vector<uint8_t> cmyk(pixel_count * 4);
    if (tjDecompress2(handle.get(), data, static_cast<unsigned long>(size), cmyk.data(), image.width,
                      image.width * 4, image.height, TJPF_CMYK, flags) != 0) {
      return TjError(handle.get());
    }
    image.pixels.resize(pixel_count * 3);
    CmykToRgb(cmyk.data(), pixel_count, markers.adobe, image.pixels.data());
  } else {
    // Straight into the output buffer; libjpeg-turbo converts grayscale to RGB itself.
    image.pixels.resize(pixel_count * 3);
    if (tjDecompress2(handle.get(), data, static_cast<unsigned long>(size), image.pixels.data(),
                      image.width, image.width * 3, image.height, TJPF_RGB, flags) != 0) {
      return TjError(handle.get());
    }
  }
  if (deadline.Passed()) return deadline.Error();
  ApplyOrientation(orientation, &image);
  return image;
}

}  // namespace mediadex::media::internal
