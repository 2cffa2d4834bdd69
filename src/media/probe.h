// What a file is, from its first bytes, without decoding pixels: enough to budget memory
// before decoding and to record metadata in the catalog.
#ifndef MEDIADEX_MEDIA_PROBE_H_
#define MEDIADEX_MEDIA_PROBE_H_

#include <cstddef>
#include <cstdint>

#include "core/status.h"
#include "media/decoder.h"

namespace mediadex::media {

struct ImageInfo {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;              // upright (EXIF orientation applied) full size
  int height = 0;
  int orientation = 1;        // EXIF orientation tag, 1..8
  int64_t capture_time = 0;   // EXIF DateTimeOriginal as seconds since the epoch (read as UTC); 0 = none
  uint64_t decode_bytes = 0;  // peak bytes DecodeImage() will allocate with the given options
                              // (an upper bound; the input bytes themselves not counted)
  // The buffer size DecodeImage() returns with these options (smaller than width x height
  // for a DCT-scaled JPEG). With apply_orientation off, all sizes are the stored ones.
  int decode_width = 0;
  int decode_height = 0;
};

// Reads headers only. Errors as DecodeImage's (Corrupt, Unsupported, InvalidArgument over
// max_pixels), so a file that fails here is never decoded.
Result<ImageInfo> ProbeImage(const uint8_t* data, size_t size, const DecodeOptions& options);

}  // namespace mediadex::media

#endif  // MEDIADEX_MEDIA_PROBE_H_
