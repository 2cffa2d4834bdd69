// Turning image files into upright RGB pixels.
//
//   media::DecodeOptions opts;
//   opts.target_width = opts.target_height = 512;   // decode near the model size (JPEG DCT scaling)
//   auto image = media::DecodeFile("photo.jpg", opts);
//   if (!image.ok()) log(image.status().ToString());   // "Corrupt: truncated JPEG data" ...
//
// Thread-safe: every call is independent.
#ifndef MEDIADEX_MEDIA_DECODER_H_
#define MEDIADEX_MEDIA_DECODER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/image.h"
#include "core/status.h"

namespace mediadex::media {

// kHeif covers HEIC and AVIF (libheif); kGif decodes the first frame only.
enum class ImageFormat { kUnknown, kJpeg, kPng, kWebp, kHeif, kTiff, kGif, kBmp };

struct DecodeOptions {
  // When > 0, a JPEG is decoded at the smallest DCT scale (1/1, 1/2, 1/4, 1/8) whose output is
  // still at least this large in both dimensions; other still formats decode at full size
  // (video frames are scaled to about this size, see video.h).
  // 0 decodes at full size (the "exact" preprocessing path).
  int target_width = 0;
  int target_height = 0;
  // Images whose width*height exceeds this are refused before any pixel is decoded
  // (decompression bombs). Default 100 megapixels.
  uint64_t max_pixels = 100'000'000;
  // Apply the EXIF (or TIFF) orientation tag so the image is upright. HEIF is always upright:
  // libheif applies its rotation/mirror boxes itself.
  bool apply_orientation = true;
  // One file's decode (a video's whole sampling) may take this long at most; past it the file
  // fails with InvalidArgument "decoding took over N s (--max-decode-seconds)". Checked
  // cooperatively (between rows, chunks, packets), so a library call that cannot be interrupted
  // (TurboJPEG, libheif, libtiff's RGBA read) finishes first; their work is bounded by the
  // pixel limit and, for JPEG, the scan cap. <= 0: no limit.
  double max_decode_seconds = 120;
};

// Sniffs the format from the first bytes (not the file name).
ImageFormat SniffFormat(const uint8_t* data, size_t size);
const char* ImageFormatName(ImageFormat format);

// Decodes an in-memory file. Grayscale, CMYK, 16-bit and alpha inputs all become 8-bit RGB
// (alpha dropped); ICC profiles are ignored (as TF.js's decoders do). GIF: the first frame on
// a black canvas of the logical screen size (transparent pixels black). TIFF: the first page.
// HEIF/HEIC/AVIF: the primary image; Unsupported "HEIF support not in this build" when
// built without libheif.
// Errors: Corrupt (malformed/truncated data, and declared sizes the file cannot hold: a chunk,
// strip, tile or frame larger than the bytes present or than the image), Unsupported (unknown
// format), InvalidArgument (over max_pixels, over max_decode_seconds, too many JPEG scans).
// Every decoder checks declared sizes before it allocates for them.
Result<RgbImage> DecodeImage(const uint8_t* data, size_t size, const DecodeOptions& options);

// Reads and decodes a file. Adds IOError/NotFound for files that cannot be read.
Result<RgbImage> DecodeFile(const std::string& path, const DecodeOptions& options);

}  // namespace mediadex::media

#endif  // MEDIADEX_MEDIA_DECODER_H_
