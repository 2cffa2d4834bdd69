// The body every image-decoder fuzzer shares: ProbeImage and DecodeImage on arbitrary bytes.
// Every input must give an image or a clean Status, never a crash, leak or sanitizer report, and
// the probe must promise exactly the buffer the decoder returns. Each decode_<format>_fuzz.cpp
// only names its seed corpus (fuzz/corpus/decode_<format>/), which steers the fuzzer there.
#ifndef MEDIADEX_FUZZ_DECODE_FUZZ_H_
#define MEDIADEX_FUZZ_DECODE_FUZZ_H_

#include <cstddef>
#include <cstdint>

#include "media/decoder.h"
#include "media/probe.h"

namespace mediadex::fuzz {

inline int FuzzDecode(const uint8_t* data, size_t size) {
  media::DecodeOptions options;
  // Keep single inputs cheap: a 4 MP cap still reaches every code path.
  options.max_pixels = 4'000'000;
  // The last byte picks the variant, so one corpus explores full-size, DCT-scaled and
  // orientation-off decodes; the decoder sees the whole input either way.
  const uint8_t selector = size > 0 ? data[size - 1] : 0;
  if (selector & 1) options.target_width = options.target_height = 1 + (selector >> 2);
  if (selector & 2) options.apply_orientation = false;
  auto info = media::ProbeImage(data, size, options);
  auto image = media::DecodeImage(data, size, options);
  if (info.ok() && image.ok() && (info->decode_width != image->width || info->decode_height != image->height)) {
    __builtin_trap();
  }
  if (image.ok()) {
    // Touch the pixels: the buffer must be exactly what width/height promise.
    volatile uint8_t sink = 0;
    if (!image->pixels.empty()) sink = image->pixels.front() ^ image->pixels.back();
    (void)sink;
    if (image->pixels.size() != static_cast<size_t>(image->width) * image->height * 3) __builtin_trap();
  }
  return 0;
}

}  // namespace mediadex::fuzz

#endif  // MEDIADEX_FUZZ_DECODE_FUZZ_H_
