// Full-size vs DCT-scaled JPEG decode speed, single thread:
//   media_decode_speed [SECONDS_PER_CASE] PHOTO.jpg...
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "media/decoder.h"

int main(int argc, char** argv) {
  using Clock = std::chrono::steady_clock;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SECONDS_PER_CASE PHOTO.jpg...\n", argv[0]);
    return 2;
  }
  const double seconds = std::atof(argv[1]);
  std::vector<std::vector<uint8_t>> files;
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    files.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const struct {
    const char* name;
    int target;
  } cases[] = {{"full size", 0}, {"target 512x512", 512}, {"target 256x256", 256}, {"target 200x200", 200}};
  // Thread CPU time as well as wall time: the machine is shared, and CPU time is what one
  // decode thread really costs.
  auto cpu_seconds = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  };
  for (const auto& c : cases) {
    mediadex::media::DecodeOptions options;
    options.target_width = options.target_height = c.target;
    int decoded = 0;
    int width = 0, height = 0;
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
      const auto& bytes = files[decoded % files.size()];
      auto image = mediadex::media::DecodeImage(bytes.data(), bytes.size(), options);
      if (!image.ok()) {
        std::fprintf(stderr, "decode failed: %s\n", image.status().ToString().c_str());
        return 1;
      }
      width = image->width;
      height = image->height;
      ++decoded;
    }
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    std::printf("%-16s -> %4dx%-4d  %6.1f images/s wall, %6.1f images/s per CPU-second  (%d decodes)\n",
                c.name, width, height, decoded / elapsed, decoded / cpu, decoded);
  }
  return 0;
}
