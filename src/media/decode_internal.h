// Internal pieces of the decoder shared by the per-format files. Not part of the public API.
#ifndef MEDIADEX_MEDIA_DECODE_INTERNAL_H_
#define MEDIADEX_MEDIA_DECODE_INTERNAL_H_

#include <cstddef>
#include <cstdint>

#include "core/image.h"
#include "core/status.h"
#include "media/decoder.h"

namespace mediadex::media::internal {

Result<RgbImage> DecodeJpeg(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<RgbImage> DecodePng(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<RgbImage> DecodeWebp(const uint8_t* data, size_t size, const DecodeOptions& options);

// InvalidArgument "image is WxH (N MP), over the M MP limit (--max-pixels)" when
// width*height > max_pixels. Called with header dimensions, before any pixel is decoded.
Status CheckPixelLimit(uint64_t width, uint64_t height, uint64_t max_pixels);

// EXIF orientation (1..8) from a TIFF block ("II*\0" / "MM\0*" ...), optionally preceded by
// the "Exif\0\0" header of a JPEG APP1 segment. Returns 1 when absent, unreadable or invalid.
int ExifOrientation(const uint8_t* data, size_t size);

// True for the orientations (5..8) that swap width and height.
inline bool OrientationSwapsAxes(int orientation) { return orientation >= 5 && orientation <= 8; }

// Rotates/mirrors the pixels so that the stored image becomes upright; swaps width/height and
// full_width/full_height for orientations 5..8. Orientation 1 (or out of range) is a no-op.
void ApplyOrientation(int orientation, RgbImage* image);

}  // namespace mediadex::media::internal

#endif  // MEDIADEX_MEDIA_DECODE_INTERNAL_H_
