// Decoder tests against fixtures whose expected pixels were made independently (ImageMagick's
// own decode, or written byte by byte): see tests/data/make_fixtures.sh.
#include "media/decoder.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "media_test_util.h"
#include "testutil.h"

namespace mediadex::media {
namespace {

using ::mediadex::testing::Photo;
using ::mediadex::testing::TestData;

using testutil::Decode;
using testutil::ExpectPixels;
using testutil::ExpectUprightQuadrants;
using testutil::MaxDiff;
using testutil::PixelAt;
using testutil::ReadBytes;
using testutil::Rgb;

// --- sniffing -------------------------------------------------------------------------------

TEST(SniffFormatTest, RecognisesMagicBytesNotNames) {
  auto sniff = [](const std::string& name) { return testutil::SniffFile(TestData(name)); };
  EXPECT_EQ(sniff("photo.jpg"), ImageFormat::kJpeg);
  EXPECT_EQ(sniff("rgba.png"), ImageFormat::kPng);
  EXPECT_EQ(sniff("photo_lossy.webp"), ImageFormat::kWebp);
  EXPECT_EQ(sniff("random.jpg"), ImageFormat::kUnknown);
  EXPECT_EQ(sniff("not_an_image.txt"), ImageFormat::kUnknown);
  EXPECT_EQ(SniffFormat(nullptr, 0), ImageFormat::kUnknown);
  EXPECT_STREQ(ImageFormatName(ImageFormat::kWebp), "WebP");
}

// --- JPEG -----------------------------------------------------------------------------------

TEST(JpegTest, BaselineMatchesLibjpegDecode) {
  ExpectPixels("photo.jpg", 160, 120, "photo.rgb", 1);
}
TEST(JpegTest, Progressive) { ExpectPixels("photo_progressive.jpg", 160, 120, "photo_progressive.rgb", 1); }
TEST(JpegTest, GrayscaleBecomesRgb) {
  ExpectPixels("photo_gray.jpg", 160, 120, "photo_gray.rgb", 1);
  auto image = Decode("photo_gray.jpg");
  ASSERT_OK(image);
  for (size_t i = 0; i < image->pixels.size(); i += 3) {
    ASSERT_EQ(image->pixels[i], image->pixels[i + 1]);
    ASSERT_EQ(image->pixels[i], image->pixels[i + 2]);
  }
}
TEST(JpegTest, AdobeCmykBecomesRgb) { ExpectPixels("photo_cmyk.jpg", 160, 120, "photo_cmyk.rgb", 2); }

TEST(JpegTest, FullSizeReported) {
  auto image = Decode("photo.jpg");
  ASSERT_OK(image);
  EXPECT_EQ(image->full_width, 160);
  EXPECT_EQ(image->full_height, 120);
}

TEST(JpegDctScalingTest, PicksSmallestScaleStillAtLeastTarget) {
  const struct {
    int tw, th, w, h;
  } cases[] = {{0, 0, 160, 120},  {80, 60, 80, 60},   {81, 60, 160, 120}, {80, 61, 160, 120},
               {79, 59, 80, 60},  {40, 30, 40, 30},   {41, 30, 80, 60},   {20, 15, 20, 15},
               {1, 1, 20, 15},    {80, 0, 80, 60},    {0, 30, 40, 30},    {500, 500, 160, 120}};
  for (const auto& c : cases) {
    DecodeOptions options;
    options.target_width = c.tw;
    options.target_height = c.th;
    auto image = Decode("photo.jpg", options);
    ASSERT_OK(image);
    EXPECT_EQ(image->width, c.w) << "target " << c.tw << "x" << c.th;
    EXPECT_EQ(image->height, c.h) << "target " << c.tw << "x" << c.th;
    EXPECT_EQ(image->full_width, 160);
    EXPECT_EQ(image->full_height, 120);
  }
}

TEST(JpegDctScalingTest, ScaledPixelsMatchLibjpegScaledDecode) {
  DecodeOptions options;
  options.target_width = 80;
  options.target_height = 60;
  ExpectPixels("photo.jpg", 80, 60, "photo_half.rgb", 1, options);
  options.target_width = 40;
  options.target_height = 30;
  ExpectPixels("photo.jpg", 40, 30, "photo_quarter.rgb", 1, options);
}

TEST(JpegDctScalingTest, RealPhoto2560x1600) {
  const std::string path = Photo("plasma-Kite-2560x1600.jpg");
  const struct {
    int tw, th, w, h;
  } cases[] = {// Both dimensions must stay >= the target: 640x400 would be upsampled to 512 high.
               {512, 512, 1280, 800},
               // The brief's "target 512 -> 640x400": a 512-wide target keeping the aspect.
               {512, 320, 640, 400},
               {512, 0, 640, 400},
               {320, 200, 320, 200},
               {0, 0, 2560, 1600}};
  for (const auto& c : cases) {
    DecodeOptions options;
    options.target_width = c.tw;
    options.target_height = c.th;
    auto image = DecodeFile(path, options);
    ASSERT_OK(image);
    EXPECT_EQ(image->width, c.w) << "target " << c.tw << "x" << c.th;
    EXPECT_EQ(image->height, c.h) << "target " << c.tw << "x" << c.th;
    EXPECT_EQ(image->full_width, 2560);
    EXPECT_EQ(image->full_height, 1600);
  }
}

// --- EXIF orientation -----------------------------------------------------------------------

class ExifOrientationTest : public ::testing::TestWithParam<int> {};

TEST_P(ExifOrientationTest, JpegComesOutUpright) {
  auto image = Decode("exif_orientation_" + std::to_string(GetParam()) + ".jpg");
  ASSERT_OK(image);
  EXPECT_EQ(image->full_width, 64);
  EXPECT_EQ(image->full_height, 48);
  ExpectUprightQuadrants(*image);
}
INSTANTIATE_TEST_SUITE_P(AllEight, ExifOrientationTest, ::testing::Range(1, 9));

TEST(ExifOrientationOffTest, KeepsStoredLayout) {
  DecodeOptions options;
  options.apply_orientation = false;
  auto image = Decode("exif_orientation_6.jpg", options);
  ASSERT_OK(image);
  EXPECT_EQ(image->width, 48);
  EXPECT_EQ(image->height, 64);
  EXPECT_EQ(image->full_width, 48);
  EXPECT_EQ(image->full_height, 64);
  // Stored for orientation 6 (display = stored turned 90 degrees clockwise): the upright
  // top-left (red) sits at the stored bottom-left, the upright top-right (green) at top-left.
  Rgb p = PixelAt(*image, 1, 62);
  EXPECT_GT(p.r, 240);
  EXPECT_LT(p.g, 15);
  p = PixelAt(*image, 1, 1);
  EXPECT_LT(p.r, 15);
  EXPECT_GT(p.g, 240);
}

TEST(ExifOrientationScalingTest, TargetIsUprightSoAxesSwapBeforePickingTheScale) {
  // Upright 64x48 (stored 48x64). Target 20x30: 1/2 gives upright 32x24, too short, so 1/1.
  // Comparing the target with the stored axes instead would wrongly pick 1/2 (24x32 >= 20x30).
  DecodeOptions options;
  options.target_width = 20;
  options.target_height = 30;
  auto image = Decode("exif_orientation_6.jpg", options);
  ASSERT_OK(image);
  EXPECT_EQ(image->width, 64);
  EXPECT_EQ(image->height, 48);
  options.target_width = 32;
  options.target_height = 24;
  image = Decode("exif_orientation_8.jpg", options);
  ASSERT_OK(image);
  EXPECT_EQ(image->width, 32);
  EXPECT_EQ(image->height, 24);
  EXPECT_EQ(image->full_width, 64);
  EXPECT_EQ(image->full_height, 48);
  EXPECT_GT(PixelAt(*image, 2, 2).r, 200);   // red top-left after rotation
  EXPECT_GT(PixelAt(*image, 29, 2).g, 200);  // green top-right
}

TEST(ExifOrientationTest, PngExifChunk) {
  ExpectPixels("exif_orientation_6.png", 64, 48, "quadrants.rgb", 0);
}
TEST(ExifOrientationTest, WebpExifChunk) {
  ExpectPixels("exif_orientation_8.webp", 64, 48, "quadrants.rgb", 0);
}

// --- PNG ------------------------------------------------------------------------------------

TEST(PngTest, SixteenBitKeepsHighByte) { ExpectPixels("rgb16.png", 40, 30, "rgb16.rgb", 0); }
TEST(PngTest, SixteenBitGray) { ExpectPixels("gray16.png", 40, 30, "gray16.rgb", 0); }
TEST(PngTest, OneBitGray) { ExpectPixels("gray1.png", 40, 30, "gray1.rgb", 0); }
TEST(PngTest, GrayAlphaDropsAlpha) { ExpectPixels("gray_alpha.png", 40, 30, "gray_alpha.rgb", 0); }
TEST(PngTest, RgbaDropsAlphaWithoutCompositing) { ExpectPixels("rgba.png", 40, 30, "rgba.rgb", 0); }
TEST(PngTest, PaletteWithTransparencyKeepsPaletteColours) {
  ExpectPixels("palette_trns.png", 40, 30, "palette_trns.rgb", 0);
}
TEST(PngTest, SixteenBitRgbaDropsAlpha) { ExpectPixels("rgba16.png", 40, 30, "rgba16.rgb", 0); }
TEST(PngTest, ColourKeyTransparencyIsIgnored) {
  ExpectPixels("gray_trns.png", 40, 30, "gray_trns.rgb", 0);
  ExpectPixels("rgb_trns.png", 40, 30, "rgb_trns.rgb", 0);
}
TEST(PngTest, Interlaced) { ExpectPixels("photo_interlaced.png", 80, 60, "photo_interlaced.rgb", 0); }
TEST(PngTest, TargetSizeDoesNotScale) {
  DecodeOptions options;
  options.target_width = options.target_height = 8;
  ExpectPixels("rgba.png", 40, 30, "rgba.rgb", 0, options);
}

// --- WebP -----------------------------------------------------------------------------------

TEST(WebpTest, Lossless) { ExpectPixels("photo_lossless.webp", 160, 120, "photo_lossless.rgb", 0); }
TEST(WebpTest, Lossy) { ExpectPixels("photo_lossy.webp", 160, 120, "photo_lossy.rgb", 2); }

// --- broken and hostile input ---------------------------------------------------------------

void ExpectError(const Result<RgbImage>& result, StatusCode code, const std::string& message_regex) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), code) << result.status().ToString();
  EXPECT_TRUE(std::regex_match(result.status().message(), std::regex(message_regex)))
      << "message: " << result.status().message();
}

TEST(BrokenInputTest, EmptyFile) { ExpectError(Decode("empty.jpg"), StatusCode::kCorrupt, "empty file"); }
TEST(BrokenInputTest, RandomBytesNamedJpg) {
  ExpectError(Decode("random.jpg"), StatusCode::kUnsupported, R"(not a supported image \(JPEG, PNG, WebP, HEIF, TIFF, GIF, BMP\))");
}
TEST(BrokenInputTest, TextFile) {
  ExpectError(Decode("not_an_image.txt"), StatusCode::kUnsupported, "not a supported image.*");
}
TEST(BrokenInputTest, TruncatedJpeg) {
  ExpectError(Decode("truncated.jpg"), StatusCode::kCorrupt, "truncated or corrupt JPEG: Premature end of JPEG file");
}
TEST(BrokenInputTest, TruncatedJpegScaled) {
  DecodeOptions options;
  options.target_width = options.target_height = 40;
  ExpectError(Decode("truncated.jpg", options), StatusCode::kCorrupt, "truncated or corrupt JPEG: .+");
}
TEST(BrokenInputTest, JpegCutInsideHeader) {
  const auto bytes = ReadBytes(TestData("photo.jpg"));
  ExpectError(DecodeImage(bytes.data(), 40, {}), StatusCode::kCorrupt, "truncated or corrupt JPEG: .+");
}
TEST(BrokenInputTest, TruncatedPng) {
  for (const char* name : {"rgba.png", "photo_interlaced.png", "palette_trns.png"}) {
    const auto bytes = ReadBytes(TestData(name));
    for (size_t cut : {size_t(9), size_t(30), bytes.size() / 2, bytes.size() - 40}) {
      SCOPED_TRACE(std::string(name) + " cut at " + std::to_string(cut));
      ExpectError(DecodeImage(bytes.data(), cut, {}), StatusCode::kCorrupt, "truncated or corrupt PNG: .+");
    }
  }
}
TEST(BrokenInputTest, PngWithBadCrc) {
  auto bytes = ReadBytes(TestData("rgba.png"));
  bytes[29] ^= 0xFF;  // inside the IHDR CRC
  ExpectError(DecodeImage(bytes.data(), bytes.size(), {}), StatusCode::kCorrupt, "truncated or corrupt PNG: .*CRC.*");
}
TEST(BrokenInputTest, TruncatedWebp) {
  for (const char* name : {"photo_lossy.webp", "photo_lossless.webp"}) {
    const auto bytes = ReadBytes(TestData(name));
    for (size_t cut : {size_t(12), size_t(20), bytes.size() / 2, bytes.size() - 1}) {
      SCOPED_TRACE(std::string(name) + " cut at " + std::to_string(cut));
      ExpectError(DecodeImage(bytes.data(), cut, {}), StatusCode::kCorrupt, "truncated or corrupt WebP: .+");
    }
  }
}
TEST(BrokenInputTest, DecompressionBombJpegRefusedFromHeader) {
  ExpectError(Decode("bomb_30000x30000.jpg"), StatusCode::kInvalidArgument,
              R"(image is 30000x30000 \(900 MP\), over the 100 MP limit \(--max-pixels\))");
}
TEST(BrokenInputTest, DecompressionBombPngRefusedFromHeader) {
  ExpectError(Decode("bomb_30000x30000.png"), StatusCode::kInvalidArgument,
              R"(image is 30000x30000 \(900 MP\), over the 100 MP limit \(--max-pixels\))");
}
TEST(BrokenInputTest, MaxPixelsAppliesToEveryFormat) {
  DecodeOptions options;
  options.max_pixels = 19'199;  // photo is 160x120 = 19200
  ExpectError(Decode("photo.jpg", options), StatusCode::kInvalidArgument,
              R"(image is 160x120 \(0.019 MP\), over the 0.019 MP limit \(--max-pixels\))");
  ExpectError(Decode("photo_lossless.webp", options), StatusCode::kInvalidArgument, "image is 160x120 .*");
  options.max_pixels = 1'199;  // 40x30
  ExpectError(Decode("rgb16.png", options), StatusCode::kInvalidArgument, "image is 40x30 .*");
  options.max_pixels = 1'200;
  EXPECT_OK(Decode("rgb16.png", options));
}
TEST(BrokenInputTest, MissingFile) {
  ExpectError(Decode("no_such_file.jpg"), StatusCode::kNotFound, "No such file or directory");
}
TEST(BrokenInputTest, DirectoryIsAnIOError) {
  ExpectError(DecodeFile(MEDIADEX_TEST_DATA, {}), StatusCode::kIOError, "Is a directory");
}
TEST(BrokenInputTest, NullData) { ExpectError(DecodeImage(nullptr, 0, {}), StatusCode::kCorrupt, "empty file"); }

// --- the shared photo set -------------------------------------------------------------------

TEST(PhotosTest, EveryPhotoDecodesAtTheSizeInSourcesMd) {
  const std::string sources = std::string(MEDIADEX_PHOTOS_DIR) + "/SOURCES.md";
  std::ifstream in(sources);
  ASSERT_TRUE(in.good()) << "photo set missing: cannot read " << sources;
  const std::regex row(R"(^\| `([^`]+)` \| (\d+)x(\d+) )");
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, row)) continue;
    ++count;
    SCOPED_TRACE(m[1].str());
    auto image = DecodeFile(Photo(m[1].str()), {});
    ASSERT_OK(image);
    EXPECT_EQ(image->width, std::stoi(m[2].str()));
    EXPECT_EQ(image->height, std::stoi(m[3].str()));
    EXPECT_EQ(image->full_width, image->width);
    EXPECT_EQ(image->full_height, image->height);
    EXPECT_EQ(image->pixels.size(), size_t(image->width) * image->height * 3);
  }
  EXPECT_EQ(count, 13) << "rows in " << sources;
}

}  // namespace
}  // namespace mediadex::media
