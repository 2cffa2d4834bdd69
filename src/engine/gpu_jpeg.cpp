// What every build has: the JPEG end check. nvJPEG itself is in
// gpu_jpeg_nvjpeg.cpp (CUDA builds) or gpu_jpeg_stub.cpp (the others); CMake picks one.
#include "engine/gpu_jpeg.h"

namespace mediadex::engine {

bool JpegEndsWhole(const uint8_t* data, size_t size) {
  const size_t from = size > kJpegEndWindow ? size - kJpegEndWindow : 0;
  for (size_t i = size; i >= from + 2; --i) {
    if (data[i - 2] == 0xFF && data[i - 1] == 0xD9) return true;
  }
  return false;
}

}  // namespace mediadex::engine
