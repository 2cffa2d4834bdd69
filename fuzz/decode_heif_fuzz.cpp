// libFuzzer target: the shared decode checks (decode_fuzz.h), seeded with heif files
// from fuzz/corpus/decode_heif/.
#include "decode_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return mediadex::fuzz::FuzzDecode(data, size);
}
