// Hostile inputs aimed at the code mediadex itself owns around the libraries (marker and
// chunk walking, EXIF parsing, orientation), plus every crash the fuzzers found.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "media/decoder.h"
#include "testutil.h"

namespace mediadex::media {
namespace {

using ::mediadex::testing::TestData;

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read fixture " << path;
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Inserts an APP1 segment right after SOI.
std::vector<uint8_t> WithApp1(const std::vector<uint8_t>& jpeg, const std::vector<uint8_t>& payload,
                              int declared_length) {
  std::vector<uint8_t> out(jpeg.begin(), jpeg.begin() + 2);
  out.push_back(0xFF);
  out.push_back(0xE1);
  out.push_back(static_cast<uint8_t>(declared_length >> 8));
  out.push_back(static_cast<uint8_t>(declared_length & 0xFF));
  out.insert(out.end(), payload.begin(), payload.end());
  out.insert(out.end(), jpeg.begin() + 2, jpeg.end());
  return out;
}

TEST(DecoderRegressionTest, ExifWithOffsetsPastTheEndIsIgnored) {
  const auto jpeg = ReadBytes(TestData("photo.jpg"));
  // "Exif\0\0" + big-endian TIFF whose IFD0 offset points far outside the block.
  const std::vector<uint8_t> exif = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0x7F, 0xFF, 0xFF, 0xF0};
  const auto bytes = WithApp1(jpeg, exif, static_cast<int>(exif.size()) + 2);
  auto image = DecodeImage(bytes.data(), bytes.size(), {});
  ASSERT_OK(image);
  EXPECT_EQ(image->width, 160);  // orientation 1
}

TEST(DecoderRegressionTest, ExifOrientationOutOfRangeIsIgnored) {
  const auto jpeg = ReadBytes(TestData("photo.jpg"));
  const std::vector<uint8_t> exif = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 42, 0, 0, 0, 8,
                                     0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0};
  const auto bytes = WithApp1(jpeg, exif, static_cast<int>(exif.size()) + 2);
  auto image = DecodeImage(bytes.data(), bytes.size(), {});
  ASSERT_OK(image);
  EXPECT_EQ(image->width, 160);
  EXPECT_EQ(image->height, 120);
}

TEST(DecoderRegressionTest, App1LongerThanTheFileIsCorruptNotACrash) {
  const auto jpeg = ReadBytes(TestData("photo.jpg"));
  const std::vector<uint8_t> exif = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0};
  const auto bytes = WithApp1(jpeg, exif, 0xFFFF);
  auto image = DecodeImage(bytes.data(), bytes.size(), {});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), StatusCode::kCorrupt);
}

TEST(DecoderRegressionTest, WebpExifChunkSizeOverflowIsIgnored) {
  auto bytes = ReadBytes(TestData("exif_orientation_8.webp"));
  // The EXIF chunk is the last one: claim it is 4 GB long.
  const size_t exif_at = bytes.size() - 26 - 8;
  ASSERT_EQ(std::memcmp(&bytes[exif_at], "EXIF", 4), 0);
  bytes[exif_at + 4] = bytes[exif_at + 5] = bytes[exif_at + 6] = bytes[exif_at + 7] = 0xFF;
  auto image = DecodeImage(bytes.data(), bytes.size(), {});
  // libwebp may accept or refuse the bad RIFF layout; either way no crash, a clean status.
  if (!image.ok()) {
    EXPECT_EQ(image.status().code(), StatusCode::kCorrupt);
  }
}

// Found by decode_heif_fuzz: an AVIF whose AV1 payload dav1d rejects. It must be one clean
// error (the 40 bytes libdav1d itself leaks on it are suppressed in fuzz/lsan.supp).
TEST(DecoderRegressionTest, AvifPayloadDav1dRejectsIsAnError) {
  std::ifstream in(testing::TestData("heif_dav1d_leak.avif"), std::ios::binary);
  ASSERT_TRUE(in.good());
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  auto image = DecodeImage(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), DecodeOptions{});
  EXPECT_FALSE(image.ok());
  EXPECT_FALSE(image.status().message().empty());
}

TEST(DecoderRegressionTest, TinyInputsOfEachFormat) {
  const std::vector<std::vector<uint8_t>> inputs = {
      {0xFF, 0xD8, 0xFF},
      {0xFF, 0xD8, 0xFF, 0xD9},
      {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'},
      {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'},
  };
  for (const auto& in : inputs) {
    auto image = DecodeImage(in.data(), in.size(), {});
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.status().code(), StatusCode::kCorrupt) << image.status().ToString();
  }
}

}  // namespace
}  // namespace mediadex::media
