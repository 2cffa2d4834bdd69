// libFuzzer target: ProbeImage and DecodeImage on arbitrary bytes (seed corpus: fuzz/corpus/decode_tiff/).
// Every input must give an image or a clean Status, never a crash, leak or sanitizer report.
#include <cstddef>
#include <cstdint>

#include "media/decoder.h"
#include "media/probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  mediadex::media::DecodeOptions options;
  // Keep single inputs cheap: a 4 MP cap still reaches every code path.
  options.max_pixels = 4'000'000;
  // The last byte picks the variant, so one corpus explores full-size, DCT-scaled and
  // orientation-off decodes; the decoder sees the whole input either way.
  const uint8_t selector = size > 0 ? data[size - 1] : 0;
  if (selector & 1) options.target_width = options.target_height = 1 + (selector >> 2);
  if (selector & 2) options.apply_orientation = false;
  // The probe must never crash either, and never promise less than the decode gives.
  auto info = mediadex::media::ProbeImage(data, size, options);
  auto image = mediadex::media::DecodeImage(data, size, options);
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
