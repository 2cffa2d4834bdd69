// ProbeImage: header-only facts must agree with what DecodeImage then does.
#include "media/probe.h"

#include <gtest/gtest.h>

#include <dirent.h>

#include <string>
#include <vector>

#include "media/decode_internal.h"
#include "media/decoder.h"
#include "media_test_util.h"
#include "testutil.h"

namespace mediadex::media {
namespace {

using ::mediadex::testing::Photo;
using ::mediadex::testing::TestData;
using testutil::ReadBytes;

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  EXPECT_NE(d, nullptr) << "cannot list " << dir;
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name[0] != '.') names.push_back(dir + "/" + name);
  }
  closedir(d);
  return names;
}

// For every decodable file: probe and decode agree on format, sizes, and the output buffer
// fits within decode_bytes; a file the probe refuses is refused by the decoder too.
void CheckProbeMatchesDecode(const std::string& path, const DecodeOptions& options, int* decoded) {
  SCOPED_TRACE(path + " target " + std::to_string(options.target_width) + " orient " +
               std::to_string(options.apply_orientation));
  const auto bytes = ReadBytes(path);
  auto info = ProbeImage(bytes.data(), bytes.size(), options);
  auto image = DecodeImage(bytes.data(), bytes.size(), options);
  if (!info.ok()) {
    EXPECT_FALSE(image.ok()) << "probe says " << info.status().ToString() << " but decode succeeded";
    if (!image.ok() && info.status().code() != StatusCode::kCorrupt) {
      EXPECT_EQ(image.status().code(), info.status().code()) << image.status().ToString();
    }
    return;
  }
  EXPECT_EQ(info->format, SniffFormat(bytes.data(), bytes.size()));
  if (!image.ok()) {  // truncated pixel data: only the decoder can tell
    EXPECT_EQ(image.status().code(), StatusCode::kCorrupt) << image.status().ToString();
    return;
  }
  ++*decoded;
  EXPECT_EQ(image->full_width, info->width);
  EXPECT_EQ(image->full_height, info->height);
  EXPECT_EQ(image->width, info->decode_width);
  EXPECT_EQ(image->height, info->decode_height);
  EXPECT_GE(info->decode_bytes, image->pixels.size());
}

TEST(ProbeTest, AgreesWithDecodeOnEveryFixtureAndPhoto) {
  std::vector<std::string> files = ListDir(MEDIADEX_TEST_DATA);
  const size_t fixtures = files.size();
  for (const auto& p : ListDir(MEDIADEX_PHOTOS_DIR)) {
    if (p.find("SOURCES") == std::string::npos) files.push_back(p);
  }
  ASSERT_GT(files.size(), fixtures + 10) << "photos missing from " << MEDIADEX_PHOTOS_DIR;
  int decoded = 0;
  for (const auto& path : files) {
    if (path.size() > 4 && path.substr(path.size() - 4) == ".rgb") continue;
    DecodeOptions options;
    CheckProbeMatchesDecode(path, options, &decoded);
    options.target_width = 60;
    options.target_height = 50;
    CheckProbeMatchesDecode(path, options, &decoded);
    options.apply_orientation = false;
    CheckProbeMatchesDecode(path, options, &decoded);
  }
  EXPECT_GT(decoded, 150);
}

ImageInfo Probe(const std::string& name, DecodeOptions options = {}) {
  const auto bytes = ReadBytes(TestData(name));
  auto info = ProbeImage(bytes.data(), bytes.size(), options);
  EXPECT_OK(info);
  return info.ok() ? *info : ImageInfo{};
}

TEST(ProbeTest, UprightSizeAndOrientation) {
  for (int o = 1; o <= 8; ++o) {
    const ImageInfo info = Probe("exif_orientation_" + std::to_string(o) + ".jpg");
    EXPECT_EQ(info.orientation, o);
    EXPECT_EQ(info.width, 64);
    EXPECT_EQ(info.height, 48);
  }
  EXPECT_EQ(Probe("exif_orientation_6.png").orientation, 6);
  EXPECT_EQ(Probe("exif_orientation_8.webp").orientation, 8);
  EXPECT_EQ(Probe("tiff_orientation_6.tif").orientation, 6);
  EXPECT_EQ(Probe("tiff_orientation_6.tif").width, 64);
  DecodeOptions stored;
  stored.apply_orientation = false;
  const ImageInfo raw = Probe("exif_orientation_6.jpg", stored);
  EXPECT_EQ(raw.orientation, 6);  // still reported
  EXPECT_EQ(raw.width, 48);
}

TEST(ProbeTest, PngOrientationComesFromTheFirstIntactExifAsLibpngKeepsIt) {
  // A broken-CRC eXIf (orientation 6), then intact ones (8, then 3): libpng keeps the 8. The
  // fuzzer found a PNG whose broken eXIf the probe read and the decoder did not.
  const ImageInfo info = Probe("exif_png_first_intact.png");
  EXPECT_EQ(info.orientation, 8);
  EXPECT_EQ(info.width, 64);
  EXPECT_EQ(info.height, 48);
  const auto bytes = ReadBytes(TestData("exif_png_first_intact.png"));
  auto image = DecodeImage(bytes.data(), bytes.size(), DecodeOptions{});
  ASSERT_OK(image);
  EXPECT_EQ(image->width, 64);
  EXPECT_EQ(image->height, 48);
}

TEST(ProbeTest, CaptureTimeFromExifDateTimeOriginal) {
  EXPECT_EQ(Probe("exif_time.jpg").capture_time, 1625402096);  // 2021-07-04 12:34:56 UTC
  EXPECT_EQ(Probe("exif_time.jpg").orientation, 6);
  EXPECT_EQ(Probe("exif_time.png").capture_time, 951868799);   // 2000-02-29 23:59:59 UTC
  EXPECT_EQ(Probe("exif_time_zero.jpg").capture_time, 0);      // camera without a clock
  EXPECT_EQ(Probe("photo.jpg").capture_time, 0);               // no EXIF at all
}

TEST(ProbeTest, ParseExifDateTime) {
  auto parse = [](const std::string& s) { return internal::ParseExifDateTime(s.c_str(), s.size() + 1); };
  EXPECT_EQ(parse("1970:01:01 00:00:00"), 0);
  EXPECT_EQ(parse("1970:01:02 00:00:01"), 86401);
  EXPECT_EQ(parse("1969:12:31 23:59:59"), -1);
  EXPECT_EQ(parse("2021:07:04 12:34:56"), 1625402096);
  EXPECT_EQ(parse("2001:02:29 00:00:00"), 0);  // not a leap year
  EXPECT_EQ(parse("2021:13:01 00:00:00"), 0);
  EXPECT_EQ(parse("2021-07-04 12:34:56"), 0);
  EXPECT_EQ(parse("    :  :     :  :  "), 0);
  EXPECT_EQ(parse("2021:07:04"), 0);
  EXPECT_EQ(internal::ParseExifDateTime(nullptr, 0), 0);
}

TEST(ProbeTest, DecodeBytesCountsScratchAndScaling) {
  const ImageInfo plain = Probe("photo.jpg");
  EXPECT_GE(plain.decode_bytes, 160u * 120 * 3);
  // CMYK needs a 4-byte scratch, progressive keeps all coefficients, rotation a copy.
  EXPECT_GE(Probe("photo_cmyk.jpg").decode_bytes, plain.decode_bytes + 160u * 120 * 4);
  EXPECT_GE(Probe("photo_progressive.jpg").decode_bytes, plain.decode_bytes + 160u * 120 * 6);
  DecodeOptions stored;
  stored.apply_orientation = false;
  EXPECT_EQ(Probe("exif_orientation_6.jpg").decode_bytes, Probe("exif_orientation_6.jpg", stored).decode_bytes + 64u * 48 * 3);
  DecodeOptions small;
  small.target_width = 40;
  small.target_height = 30;
  const ImageInfo scaled = Probe("photo.jpg", small);
  EXPECT_EQ(scaled.decode_width, 40);
  EXPECT_EQ(scaled.decode_height, 30);
  EXPECT_EQ(scaled.width, 160);
  EXPECT_LT(scaled.decode_bytes, plain.decode_bytes);
}

TEST(ProbeTest, BombsAndBadInput) {
  for (const char* name : {"bomb_30000x30000.jpg", "bomb_30000x30000.png"}) {
    const auto bytes = ReadBytes(TestData(name));
    auto info = ProbeImage(bytes.data(), bytes.size(), DecodeOptions{});
    ASSERT_FALSE(info.ok());
    EXPECT_EQ(info.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(info.status().message(), "image is 30000x30000 (900 MP), over the 100 MP limit (--max-pixels)");
  }
  auto check = [](const std::string& name, StatusCode code) {
    const auto bytes = ReadBytes(TestData(name));
    auto info = ProbeImage(bytes.data(), bytes.size(), DecodeOptions{});
    ASSERT_FALSE(info.ok()) << name;
    EXPECT_EQ(info.status().code(), code) << name << ": " << info.status().ToString();
  };
  check("empty.jpg", StatusCode::kCorrupt);
  check("random.jpg", StatusCode::kUnsupported);
  check("not_an_image.txt", StatusCode::kUnsupported);
  check("clip.mp4", StatusCode::kUnsupported);
  check("rle8.bmp", StatusCode::kUnsupported);
  EXPECT_FALSE(ProbeImage(nullptr, 0, DecodeOptions{}).ok());
}

}  // namespace
}  // namespace mediadex::media
