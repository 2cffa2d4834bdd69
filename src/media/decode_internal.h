// Internal pieces of the decoder shared by the per-format files. Not part of the public API.
#ifndef MEDIADEX_MEDIA_DECODE_INTERNAL_H_
#define MEDIADEX_MEDIA_DECODE_INTERNAL_H_

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "core/image.h"
#include "core/status.h"
#include "media/decoder.h"

namespace mediadex::media::internal {

Result<RgbImage> DecodeJpeg(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<RgbImage> DecodePng(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<RgbImage> DecodeWebp(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<RgbImage> DecodeHeif(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<RgbImage> DecodeTiff(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<RgbImage> DecodeGif(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<RgbImage> DecodeBmp(const uint8_t* data, size_t size, const DecodeOptions& options);

// The size DecodeJpeg decodes a stored width x height JPEG at for a (stored-axes) target.
void JpegScaledSize(int width, int height, int target_width, int target_height, int* out_width,
                    int* out_height);

// Header facts the per-format probes report to ProbeImage (probe.cpp), which adds the pixel
// limit and the upright size. Stored (not upright) width/height.
struct HeaderInfo {
  int width = 0;
  int height = 0;
  int orientation = 1;         // 1 when the decoder applies no orientation itself
  int64_t capture_time = 0;    // seconds since the epoch, 0 = unknown
  uint64_t decode_bytes = 0;   // peak allocation of the matching Decode*(), orientation copy included
};
Result<HeaderInfo> ProbeHeif(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<HeaderInfo> ProbeTiff(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<HeaderInfo> ProbeGif(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<HeaderInfo> ProbeBmp(const uint8_t* data, size_t size, const DecodeOptions& options);

// Allocations of a decoder's own state (tables, row buffers, library contexts) that do not
// grow with the image, added to every decode_bytes estimate.
constexpr uint64_t kDecoderOverheadBytes = 4u << 20;

// InvalidArgument "image is WxH (N MP), over the M MP limit (--max-pixels)" when
// width*height > max_pixels. Called with header dimensions, before any pixel is decoded.
Status CheckPixelLimit(uint64_t width, uint64_t height, uint64_t max_pixels);

// The per-file decode time limit (DecodeOptions::max_decode_seconds), started when a decode
// starts; the decoders call Passed() between rows, chunks or packets.
class Deadline {
 public:
  explicit Deadline(double seconds) : seconds_(seconds), start_(std::chrono::steady_clock::now()) {}
  bool Passed() const {
    return seconds_ > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count() > seconds_;
  }
  // InvalidArgument "decoding took over N s (--max-decode-seconds)".
  Status Error() const;

 private:
  double seconds_;
  std::chrono::steady_clock::time_point start_;
};

// The most scans a progressive JPEG may have: real encoders write about 10 (mozjpeg up to
// ~20); each scan is a pass over every coefficient, so thousands are a CPU-time bomb.
constexpr int kMaxJpegScans = 100;

// Checks of what a JPEG's headers declare against the bytes present, before anything is
// allocated for them (shared by DecodeJpeg and ProbeImage): InvalidArgument over kMaxJpegScans
// scans; Corrupt when a Huffman-coded first scan is too short to hold one bit per 8x8 block
// of its smallest component (every block's DC difference takes at least one bit).
Status CheckJpegDeclaredSizes(const uint8_t* data, size_t size);

// PNG: the pixel limit on IHDR's size, then Corrupt when a chunk before the image data declares
// more bytes than the file has left, or when the image data present (the IDAT chunks' bytes,
// inflated at most 1032:1, deflate's limit) cannot hold the rows IHDR declares.
Status CheckPngDeclaredSizes(const uint8_t* data, size_t size, uint64_t max_pixels);

// EXIF orientation (1..8) from a TIFF block ("II*\0" / "MM\0*" ...), optionally preceded by
// the "Exif\0\0" header of a JPEG APP1 segment. Returns 1 when absent, unreadable or invalid.
int ExifOrientation(const uint8_t* data, size_t size);

// EXIF orientation and DateTimeOriginal from the same kind of block, parsed once.
struct ExifFacts {
  int orientation = 1;
  int64_t capture_time = 0;  // 0 when absent or malformed
};
ExifFacts ReadExif(const uint8_t* data, size_t size);

// "YYYY:MM:DD HH:MM:SS" read as UTC -> seconds since the epoch; 0 when malformed.
int64_t ParseExifDateTime(const char* text, size_t size);

// True for the orientations (5..8) that swap width and height.
inline bool OrientationSwapsAxes(int orientation) { return orientation >= 5 && orientation <= 8; }

// Rotates/mirrors the pixels so that the stored image becomes upright; swaps width/height and
// full_width/full_height for orientations 5..8. Orientation 1 (or out of range) is a no-op.
void ApplyOrientation(int orientation, RgbImage* image);

}  // namespace mediadex::media::internal

#endif  // MEDIADEX_MEDIA_DECODE_INTERNAL_H_
