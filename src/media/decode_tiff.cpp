// TIFF through libtiff's RGBA interface, first page (IFD 0): 1..16-bit, gray, palette, RGB,
// CMYK, YCbCr, strips or tiles, any codec libtiff was built with. Errors and warnings go to
// per-file handlers (libtiff's default prints to stderr and is process-global).
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "media/decode_internal.h"

namespace mediadex::media::internal {
namespace {

struct MemoryFile {
  const uint8_t* data;
  size_t size;
  uint64_t pos;
  std::string error;  // the first error libtiff reported
};

tmsize_t ReadProc(thandle_t h, void* out, tmsize_t n) {
  auto* f = static_cast<MemoryFile*>(h);
  if (n <= 0 || f->pos >= f->size) return 0;
  const uint64_t left = f->size - f->pos;
  const uint64_t count = static_cast<uint64_t>(n) < left ? static_cast<uint64_t>(n) : left;
  std::memcpy(out, f->data + f->pos, count);
  f->pos += count;
  return static_cast<tmsize_t>(count);
}
tmsize_t WriteProc(thandle_t, void*, tmsize_t) { return 0; }
toff_t SeekProc(thandle_t h, toff_t offset, int whence) {
  auto* f = static_cast<MemoryFile*>(h);
  uint64_t base = 0;
  if (whence == SEEK_CUR) base = f->pos;
  else if (whence == SEEK_END) base = f->size;
  f->pos = base + offset;  // past the end is allowed; reads there return 0
  return f->pos;
}
int CloseProc(thandle_t) { return 0; }
toff_t SizeProc(thandle_t h) { return static_cast<MemoryFile*>(h)->size; }
int MapProc(thandle_t, void**, toff_t*) { return 0; }
void UnmapProc(thandle_t, void*, toff_t) {}

int ErrorHandler(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* f = static_cast<MemoryFile*>(user);
  if (f->error.empty()) {
    char buf[512];
    std::vsnprintf(buf, sizeof(buf), fmt, ap);
    f->error = (module != nullptr && *module != '\0') ? std::string(module) + ": " + buf : buf;
  }
  return 1;  // handled: do not call the global handler
}
int WarningHandler(TIFF*, void*, const char*, const char*, va_list) { return 1; }

struct TiffCloser {
  void operator()(TIFF* tif) const { TIFFClose(tif); }
};
using TiffHandle = std::unique_ptr<TIFF, TiffCloser>;

Status TiffCorrupt(const MemoryFile& f, const char* fallback) {
  return Corrupt(std::string("truncated or corrupt TIFF: ") + (f.error.empty() ? fallback : f.error));
}

Result<TiffHandle> OpenTiff(MemoryFile* file, const DecodeOptions& options) {
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  if (opts == nullptr) return OutOfMemory("cannot create a TIFF decoder");
  TIFFOpenOptionsSetErrorHandlerExtR(opts, ErrorHandler, file);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, WarningHandler, file);
  // No single libtiff buffer (strip, tile, tag array) may exceed what the whole RGBA raster of
  // an image at the pixel limit would take: hostile headers cannot make it allocate more.
  const uint64_t cap = options.max_pixels * 8 + (64u << 20);
  TIFFOpenOptionsSetMaxSingleMemAlloc(opts, static_cast<tmsize_t>(cap > (1ull << 40) ? (1ull << 40) : cap));
  // "m": never memory-map (there is no file).
  TIFF* tif = TIFFClientOpenExt("tiff", "rm", file, ReadProc, WriteProc, SeekProc, CloseProc, SizeProc,
                                MapProc, UnmapProc, opts);
  TIFFOpenOptionsFree(opts);
  if (tif == nullptr) return TiffCorrupt(*file, "cannot read the header");
  return TiffHandle(tif);
}

struct TiffSize {
  uint32_t width = 0, height = 0;
  uint16_t orientation = 1;
};

Result<TiffSize> ReadSize(TIFF* tif, const MemoryFile& file, const DecodeOptions& options) {
  TiffSize s;
  if (TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &s.width) != 1 || TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &s.height) != 1 ||
      s.width == 0 || s.height == 0 || s.width > 0x7FFFFFFF || s.height > 0x7FFFFFFF) {
    return TiffCorrupt(file, "no image size");
  }
  MDX_RETURN_IF_ERROR(CheckPixelLimit(s.width, s.height, options.max_pixels));
  TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &s.orientation);
  if (s.orientation < 1 || s.orientation > 8) s.orientation = 1;
  return s;
}

// The most bytes a codec inflates one byte of its data to, or 0 when unbounded/unknown (JPEG,
// CCITT, ...). PackBits: a 2-byte run makes 128; LZW: a code of 9+ bits makes 4096 at most.
uint64_t MaxExpansion(uint16_t compression) {
  switch (compression) {
    case COMPRESSION_NONE: return 1;
    case COMPRESSION_PACKBITS: return 64;
    case COMPRESSION_LZW: return 3641;
    case COMPRESSION_ADOBE_DEFLATE: case COMPRESSION_DEFLATE: return 1032;
    default: return 0;
  }
}

// What the directory declares against the image and the bytes present, before any strip or
// tile buffer is allocated: tiles no larger than the image (rounded up to 16, as tiles are),
// and for codecs with a bounded expansion, enough strip/tile bytes in the file for the pixels.
Status CheckDeclaredSizes(TIFF* tif, const MemoryFile& file, const TiffSize& s) {
  const std::string image = std::to_string(s.width) + "x" + std::to_string(s.height);
  if (TIFFIsTiled(tif)) {
    uint32_t tw = 0, th = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
    if (tw == 0 || th == 0 || tw > (s.width + 15) / 16 * 16 || th > (s.height + 15) / 16 * 16) {
      return Corrupt("truncated or corrupt TIFF: tiles of " + std::to_string(tw) + "x" + std::to_string(th) +
                     " are larger than the " + image + " image");
    }
  }
  uint16_t compression = COMPRESSION_NONE, bits = 1, samples = 1;
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
  const uint64_t expansion = MaxExpansion(compression);
  if (expansion == 0) return Status::Ok();
  const uint32_t count = TIFFIsTiled(tif) ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
  uint64_t present = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const uint64_t offset = TIFFGetStrileOffset(tif, i), bytes = TIFFGetStrileByteCount(tif, i);
    if (offset < file.size) present += std::min<uint64_t>(bytes, file.size - offset);
  }
  const uint64_t needed = static_cast<uint64_t>(s.width) * s.height * samples * bits / 8;
  if (needed <= present * expansion + 4096) return Status::Ok();
  return Corrupt("truncated or corrupt TIFF: the " + image + " image needs " + std::to_string(needed) +
                 " bytes of samples but its strips/tiles hold " + std::to_string(present) + " bytes in the file");
}

}  // namespace

Result<HeaderInfo> ProbeTiff(const uint8_t* data, size_t size, const DecodeOptions& options) {
  MemoryFile file{data, size, 0, {}};
  auto tif = OpenTiff(&file, options);
  if (!tif.ok()) return tif.status();
  auto s = ReadSize(tif->get(), file, options);
  if (!s.ok()) return s.status();
  MDX_RETURN_IF_ERROR(CheckDeclaredSizes(tif->get(), file, *s));
  HeaderInfo info;
  info.width = static_cast<int>(s->width);
  info.height = static_cast<int>(s->height);
  info.orientation = s->orientation;
  const uint64_t pixels = static_cast<uint64_t>(s->width) * s->height;
  // RGBA raster + RGB output + orientation copy + one strip/tile buffer.
  uint64_t chunk = TIFFIsTiled(tif->get()) ? static_cast<uint64_t>(TIFFTileSize64(tif->get()))
                                           : static_cast<uint64_t>(TIFFStripSize64(tif->get()));
  const bool rotates = options.apply_orientation && s->orientation != 1;
  info.decode_bytes = pixels * 4 + pixels * 3 + (rotates ? pixels * 3 : 0) + chunk * 2 +
                      kDecoderOverheadBytes;
  // Capture time from the EXIF sub-IFD, when there is one.
  toff_t exif_offset = 0;
  if (TIFFGetField(tif->get(), TIFFTAG_EXIFIFD, &exif_offset) == 1 && exif_offset != 0 &&
      TIFFReadEXIFDirectory(tif->get(), exif_offset) == 1) {
    const char* text = nullptr;
    if (TIFFGetField(tif->get(), EXIFTAG_DATETIMEORIGINAL, &text) == 1 && text != nullptr) {
      info.capture_time = ParseExifDateTime(text, std::strlen(text));
    }
  }
  return info;
}

Result<RgbImage> DecodeTiff(const uint8_t* data, size_t size, const DecodeOptions& options) {
  // TIFFRGBAImageGet is one call: the time limit is checked around it (its work is bounded by
  // the pixel limit and CheckDeclaredSizes).
  const Deadline deadline(options.max_decode_seconds);
  MemoryFile file{data, size, 0, {}};
  auto opened = OpenTiff(&file, options);
  if (!opened.ok()) return opened.status();
  TIFF* tif = opened->get();
  auto s = ReadSize(tif, file, options);
  if (!s.ok()) return s.status();
  MDX_RETURN_IF_ERROR(CheckDeclaredSizes(tif, file, *s));
  char message[1024] = {0};
  if (TIFFRGBAImageOK(tif, message) != 1) return Unsupported(std::string("TIFF variant not supported: ") + message);
  TIFFRGBAImage rgba;
  std::memset(&rgba, 0, sizeof(rgba));
  if (TIFFRGBAImageBegin(&rgba, tif, /*stop_on_error=*/1, message) != 1) {
    return Corrupt(std::string("truncated or corrupt TIFF: ") + message);
  }
  // Read the rows as stored; the orientation tag is applied below like EXIF's (libtiff only
  // flips, it cannot transpose for orientations 5..8).
  rgba.req_orientation = ORIENTATION_TOPLEFT;
  rgba.orientation = ORIENTATION_TOPLEFT;
  std::vector<uint32_t> raster;
  raster.resize(static_cast<size_t>(s->width) * s->height);
  const int ok = TIFFRGBAImageGet(&rgba, raster.data(), s->width, s->height);
  TIFFRGBAImageEnd(&rgba);
  if (ok != 1) return TiffCorrupt(file, "cannot decode the pixels");
  if (deadline.Passed()) return deadline.Error();

  RgbImage image;
  image.width = image.full_width = static_cast<int>(s->width);
  image.height = image.full_height = static_cast<int>(s->height);
  image.pixels.resize(raster.size() * 3);
  uint8_t* out = image.pixels.data();
  for (const uint32_t p : raster) {
    *out++ = static_cast<uint8_t>(TIFFGetR(p));
    *out++ = static_cast<uint8_t>(TIFFGetG(p));
    *out++ = static_cast<uint8_t>(TIFFGetB(p));
  }
  std::vector<uint32_t>().swap(raster);  // free before the orientation copy
  if (options.apply_orientation) ApplyOrientation(s->orientation, &image);
  return image;
}

}  // namespace mediadex::media::internal
