// Helpers shared by the media tests (fixtures, pixel comparisons).
#ifndef MEDIADEX_TESTS_MEDIA_MEDIA_TEST_UTIL_H_
#define MEDIADEX_TESTS_MEDIA_MEDIA_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/image.h"
#include "media/decoder.h"
#include "testutil.h"

namespace mediadex::media::testutil {

inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read fixture " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The format SniffFormat sees in a file's first bytes.
inline ImageFormat SniffFile(const std::string& path) {
  const auto bytes = ReadBytes(path);
  return SniffFormat(bytes.data(), bytes.size());
}

// Largest per-sample difference; sizes must match.
inline int MaxDiff(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want) {
  EXPECT_EQ(got.size(), want.size());
  int worst = 0;
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    worst = std::max(worst, std::abs(int(got[i]) - int(want[i])));
  }
  return worst;
}

// A fixture of tests/data, decoded.
inline Result<RgbImage> Decode(const std::string& name, DecodeOptions options = {}) {
  return DecodeFile(::mediadex::testing::TestData(name), options);
}

// Decodes `fixture` to width x height and compares it with the raw RGB file `expected` within
// `tolerance` per sample. Without a target size the buffer is the photo's full size.
inline void ExpectPixels(const std::string& fixture, int width, int height, const std::string& expected,
                         int tolerance, DecodeOptions options = {}) {
  SCOPED_TRACE(fixture);
  auto image = Decode(fixture, options);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->width, width);
  EXPECT_EQ(image->height, height);
  if (options.target_width == 0 && options.target_height == 0) {
    EXPECT_EQ(image->full_width, width);
    EXPECT_EQ(image->full_height, height);
  }
  ASSERT_EQ(image->pixels.size(), size_t(width) * height * 3);
  EXPECT_LE(MaxDiff(image->pixels, ReadBytes(::mediadex::testing::TestData(expected))), tolerance);
}

inline double MeanDiff(const std::vector<uint8_t>& got, const std::vector<uint8_t>& want) {
  EXPECT_EQ(got.size(), want.size());
  double sum = 0;
  const size_t n = std::min(got.size(), want.size());
  for (size_t i = 0; i < n; ++i) sum += std::abs(int(got[i]) - int(want[i]));
  return n == 0 ? 0 : sum / n;
}

struct Rgb {
  int r, g, b;
};
inline Rgb PixelAt(const RgbImage& image, int x, int y) {
  const uint8_t* p = &image.pixels[(size_t(y) * image.width + x) * 3];
  return {p[0], p[1], p[2]};
}

// Red top-left, green top-right, blue bottom-left, white bottom-right (64x48), within `tol`.
inline void ExpectUprightQuadrants(const RgbImage& image, int tol = 12) {
  ASSERT_EQ(image.width, 64);
  ASSERT_EQ(image.height, 48);
  const struct {
    int x, y;
    Rgb want;
  } probes[] = {{1, 1, {255, 0, 0}},  {16, 12, {255, 0, 0}},  {62, 1, {0, 255, 0}},
                {48, 12, {0, 255, 0}}, {1, 46, {0, 0, 255}},   {16, 36, {0, 0, 255}},
                {62, 46, {255, 255, 255}}, {48, 36, {255, 255, 255}}};
  for (const auto& p : probes) {
    const Rgb got = PixelAt(image, p.x, p.y);
    EXPECT_TRUE(std::abs(got.r - p.want.r) <= tol && std::abs(got.g - p.want.g) <= tol &&
                std::abs(got.b - p.want.b) <= tol)
        << "pixel (" << p.x << "," << p.y << ") is " << got.r << "," << got.g << "," << got.b << ", want "
        << p.want.r << "," << p.want.g << "," << p.want.b;
  }
}

}  // namespace mediadex::media::testutil

#endif  // MEDIADEX_TESTS_MEDIA_MEDIA_TEST_UTIL_H_
