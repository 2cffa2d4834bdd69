// HEIF/AVIF, TIFF, GIF and BMP decoding against fixtures whose expected pixels were made
// independently (ImageMagick's decode, the lossless source, or written byte by byte):
// see tests/data/make_fixtures.sh.
#include <gtest/gtest.h>

#include <string>

#include "media/decoder.h"
#include "media_test_util.h"
#include "testutil.h"

namespace mediadex::media {
namespace {

using ::mediadex::testing::TestData;
using testutil::Decode;
using testutil::ExpectPixels;
using testutil::ExpectUprightQuadrants;
using testutil::MaxDiff;
using testutil::MeanDiff;
using testutil::PixelAt;
using testutil::ReadBytes;

void ExpectError(const std::string& fixture, StatusCode code, const std::string& text) {
  SCOPED_TRACE(fixture);
  auto image = Decode(fixture);
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), code) << image.status().ToString();
  EXPECT_NE(image.status().message().find(text), std::string::npos) << image.status().ToString();
}

TEST(SniffNewFormatsTest, MagicBytes) {
  auto sniff = [](const std::string& name) { return testutil::SniffFile(TestData(name)); };
  EXPECT_EQ(sniff("photo.heic"), ImageFormat::kHeif);
  EXPECT_EQ(sniff("photo.avif"), ImageFormat::kHeif);
  EXPECT_EQ(sniff("photo.tif"), ImageFormat::kTiff);
  EXPECT_EQ(sniff("photo.gif"), ImageFormat::kGif);
  EXPECT_EQ(sniff("photo.bmp"), ImageFormat::kBmp);
  EXPECT_EQ(sniff("clip.mp4"), ImageFormat::kUnknown);  // an mp4 "ftyp" is not HEIF
  EXPECT_STREQ(ImageFormatName(ImageFormat::kHeif), "HEIF");
  EXPECT_STREQ(ImageFormatName(ImageFormat::kBmp), "BMP");
}

// --- TIFF -------------------------------------------------------------------------------------
TEST(TiffTest, RgbStripsAreLossless) { ExpectPixels("photo.tif", 160, 120, "photo_lossless.rgb", 0); }
TEST(TiffTest, Tiled) { ExpectPixels("photo_tiled.tif", 160, 120, "photo_lossless.rgb", 0); }
TEST(TiffTest, Gray16) { ExpectPixels("gray16.tif", 160, 120, "gray16_tif.rgb", 1); }
TEST(TiffTest, Palette) { ExpectPixels("palette.tif", 160, 120, "palette_tif.rgb", 1); }
TEST(TiffTest, CmykSeparated) { ExpectPixels("cmyk.tif", 160, 120, "cmyk_tif.rgb", 1); }
TEST(TiffTest, FirstPageOfMultipage) { ExpectPixels("multipage.tif", 160, 120, "photo_lossless.rgb", 0); }
TEST(TiffTest, OrientationTagApplied) {
  auto image = Decode("tiff_orientation_6.tif");
  ASSERT_OK(image);
  ExpectUprightQuadrants(*image, 0);
  EXPECT_EQ(image->full_width, 64);
  DecodeOptions stored;
  stored.apply_orientation = false;
  auto raw = Decode("tiff_orientation_6.tif", stored);
  ASSERT_OK(raw);
  EXPECT_EQ(raw->width, 48);
  EXPECT_EQ(raw->height, 64);
}
TEST(TiffTest, Truncated) { ExpectError("truncated.tif", StatusCode::kCorrupt, "TIFF"); }

// --- GIF --------------------------------------------------------------------------------------
TEST(GifTest, Photo) { ExpectPixels("photo.gif", 160, 120, "photo_gif.rgb", 0); }
TEST(GifTest, Interlaced) { ExpectPixels("photo_interlaced.gif", 160, 120, "photo_interlaced_gif.rgb", 0); }
TEST(GifTest, FirstFrameOfAnimation) {
  auto image = Decode("anim.gif");
  ASSERT_OK(image);
  ASSERT_EQ(image->width, 32);
  ASSERT_EQ(image->height, 24);
  for (int y = 0; y < 24; y += 7) {
    for (int x = 0; x < 32; x += 7) {
      const auto p = PixelAt(*image, x, y);
      ASSERT_EQ(p.r, 255);
      ASSERT_EQ(p.g, 0);
      ASSERT_EQ(p.b, 0);
    }
  }
}
TEST(GifTest, Truncated) { ExpectError("truncated.gif", StatusCode::kCorrupt, "GIF"); }

// --- BMP --------------------------------------------------------------------------------------
TEST(BmpTest, BottomUp24IsLossless) { ExpectPixels("photo.bmp", 160, 120, "photo_lossless.rgb", 0); }
TEST(BmpTest, Palette) { ExpectPixels("palette.bmp", 160, 120, "palette_bmp.rgb", 0); }
TEST(BmpTest, ConstructedVariantsGiveQuadrants) {
  for (const char* name : {"bmp_topdown24.bmp", "bmp_pal8.bmp", "bmp_bitfields32.bmp"}) {
    SCOPED_TRACE(name);
    auto image = Decode(name);
    ASSERT_OK(image);
    ExpectUprightQuadrants(*image, 0);
  }
}
TEST(BmpTest, OddWidthRowsArePadded) {
  auto image = Decode("bmp_odd24.bmp");
  ASSERT_OK(image);
  ASSERT_EQ(image->width, 63);
  const auto tr = PixelAt(*image, 62, 1);
  EXPECT_EQ(tr.g, 255);
  EXPECT_EQ(tr.r, 0);
  const auto br = PixelAt(*image, 62, 46);
  EXPECT_EQ(br.r + br.g + br.b, 765);
}
TEST(BmpTest, RleIsUnsupported) { ExpectError("rle8.bmp", StatusCode::kUnsupported, "RLE"); }
TEST(BmpTest, Truncated) { ExpectError("truncated.bmp", StatusCode::kCorrupt, "pixel data ends early"); }

// --- HEIF / AVIF ------------------------------------------------------------------------------
TEST(HeifTest, HeicMatchesImageMagicksDecode) {
  ExpectPixels("photo.heic", 160, 120, "photo_heic.rgb", 3);
}
TEST(HeifTest, HeicAndAvifAreCloseToTheSource) {
  for (const char* name : {"photo.heic", "photo.avif"}) {
    SCOPED_TRACE(name);
    auto image = Decode(name);
    ASSERT_OK(image);
    ASSERT_EQ(image->width, 160);
    ASSERT_EQ(image->height, 120);
    EXPECT_LT(MeanDiff(image->pixels, ReadBytes(TestData("photo_lossless.rgb"))), 4.0);
  }
}
TEST(HeifTest, Truncated) { ExpectError("truncated.heic", StatusCode::kCorrupt, "HEIF"); }
// Found by decode_heif_fuzz: the coded image is not the size the header (ispe) declares.
TEST(HeifTest, HeaderSizeMismatchIsCorrupt) { ExpectError("heif_size_mismatch.heic", StatusCode::kCorrupt, "HEIF"); }

// --- every new format refuses a bomb before decoding ------------------------------------------
TEST(NewFormatsTest, PixelLimitBeforeDecoding) {
  DecodeOptions options;
  options.max_pixels = 160 * 120 - 1;
  for (const char* name : {"photo.tif", "photo.gif", "photo.bmp", "photo.heic", "photo.avif"}) {
    SCOPED_TRACE(name);
    auto image = Decode(name, options);
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(image.status().message().find("160x120"), std::string::npos) << image.status().ToString();
  }
}

}  // namespace
}  // namespace mediadex::media
