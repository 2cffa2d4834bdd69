// Hostile files (tests/data/make_hostile.py): each decoder refuses what it cannot hold, with a
// one-line reason, before allocating what the headers declare; peak RSS is measured in a child
// process per file (issue #21: a 3 KB PNG used to take 2.3 GB). And the decode time limit.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <regex>
#include <string>

#include "media/decoder.h"
#include "media/probe.h"
#include "media/video.h"
#include "media_test_util.h"
#include "testutil.h"

namespace mediadex::media {
namespace {
namespace fs = std::filesystem;
using testutil::ReadBytes;

// The generated folder, once per test run.
const fs::path& HostileDir() {
  static const fs::path dir = [] {
    const fs::path out = fs::temp_directory_path() / ("mediadex_hostile_" + std::to_string(::getpid()));
    const std::string cmd =
        "python3 '" + testing::TestData("make_hostile.py") + "' '" + out.string() + "' > /dev/null";
    if (std::system(cmd.c_str()) != 0) ADD_FAILURE() << "tests/data/make_hostile.py failed (python3 needed): " << cmd;
    return out;
  }();
  return dir;
}

struct HostileCleanup : ::testing::Environment {
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(HostileDir(), ec);
  }
};
const auto* const kCleanup = ::testing::AddGlobalTestEnvironment(new HostileCleanup);

// Probes and decodes the file as the indexer does (probe first; decode only when it passes).
Status ProbeThenDecode(const std::vector<uint8_t>& bytes, const DecodeOptions& options) {
  auto info = ProbeImage(bytes.data(), bytes.size(), options);
  if (!info.ok()) return info.status();
  auto image = DecodeImage(bytes.data(), bytes.size(), options);
  return image.ok() ? Status::Ok() : image.status();
}

// Peak RSS (bytes) of a child that decodes the file with DecodeImage alone (no probe: the
// decoder must protect itself), 0 when the child did not exit normally.
uint64_t DecodePeakRss(const std::string& path) {
  const pid_t pid = fork();
  if (pid == 0) {
    const auto bytes = ReadBytes(path);
    (void)DecodeImage(bytes.data(), bytes.size(), DecodeOptions{});
    _exit(0);
  }
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 0;
  return static_cast<uint64_t>(usage.ru_maxrss) * 1024;
}

struct Expectation {
  const char* file;
  bool ok;
  StatusCode code;
  const char* message;  // regex searched in the message
};

void PrintTo(const Expectation& e, std::ostream* os) { *os << e.file; }

class HostileImageTest : public ::testing::TestWithParam<Expectation> {};

TEST_P(HostileImageTest, RefusedWithItsReasonWithoutAllocatingWhatItDeclares) {
  const Expectation& e = GetParam();
  const std::string path = (HostileDir() / e.file).string();
  const auto bytes = ReadBytes(path);
  ASSERT_FALSE(bytes.empty()) << path;
  const Status probed_and_decoded = ProbeThenDecode(bytes, DecodeOptions{});
  auto decoded = DecodeImage(bytes.data(), bytes.size(), DecodeOptions{});
  for (const Status& s : {probed_and_decoded, decoded.ok() ? Status::Ok() : decoded.status()}) {
    if (e.ok) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      continue;
    }
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.code(), e.code) << s.ToString();
    EXPECT_TRUE(std::regex_search(s.message(), std::regex(e.message))) << s.message();
    EXPECT_EQ(s.message().find('\n'), std::string::npos) << "one line";
  }
  // A decode of a file of a few KB stays near the process's own size (libraries, code).
  const uint64_t peak = DecodePeakRss(path);
  ASSERT_GT(peak, 0u) << "the decoding child crashed";
  EXPECT_LT(peak, 64ull << 20) << e.file << ": peak RSS " << (peak >> 20) << " MiB";
}

const Expectation kHostileImages[] = {
    {"png_huge_text.png", false, StatusCode::kCorrupt,
     "truncated or corrupt PNG: chunk 'tEXt' declares 2147483632 bytes but the file has 3028 left"},
    {"png_huge_ztxt.png", false, StatusCode::kCorrupt, "chunk 'zTXt' declares 2147483632 bytes"},
    {"png_huge_private.png", false, StatusCode::kCorrupt, "chunk 'prIv' declares 2147483632 bytes"},
    {"png_huge_exif.png", false, StatusCode::kCorrupt, "chunk 'eXIf' declares 2147483632 bytes"},
    {"png_huge_idat.png", false, StatusCode::kCorrupt,
     "IHDR declares 10000x10000 but its 2081 bytes of image data inflate to \\d+ bytes at most, not the 300000000"},
    {"png_huge_dims.png", false, StatusCode::kCorrupt, "IHDR declares 100000x1000 but its 26 bytes of image data"},
    {"png_many_text.png", true, StatusCode::kOk, ""},
    {"tiff_huge_strip_bytes.tif", true, StatusCode::kOk, ""},  // libtiff reads what is there
    {"tiff_huge_dims.tif", false, StatusCode::kCorrupt,
     "the 10000x10000 image needs 300000000 bytes of samples but its strips/tiles hold 768 bytes"},
    {"tiff_many_strips.tif", false, StatusCode::kCorrupt, "Incorrect count for \"StripOffsets\""},
    {"tiff_huge_tile.tif", false, StatusCode::kCorrupt, "tiles of 65536x65536 are larger than the 16x16 image"},
    {"jpeg_many_scans.jpg", false, StatusCode::kInvalidArgument, "JPEG has more than 100 scans"},
    {"jpeg_scans_over_the_cap.jpg", false, StatusCode::kInvalidArgument, "JPEG has more than 100 scans"},
    {"jpeg_huge_dims.jpg", false, StatusCode::kCorrupt,
     "the frame declares 10000x10000 \\(390625 blocks in its first scan\\) but that scan holds \\d+ bytes, less than "
     "one bit per block"},
    {"jpeg_huge_dims_progressive.jpg", false, StatusCode::kCorrupt, "less than one bit per block"},
    {"jpeg_lying_exif.jpg", true, StatusCode::kOk, ""},  // libexif drops the lying entries
    {"gif_frame_larger_than_screen.gif", false, StatusCode::kCorrupt,
     "frame of 9000x9000 is larger than the 16x16 screen"},
    {"gif_huge_screen.gif", false, StatusCode::kInvalidArgument, "65535x65535 .* over the 100 MP limit"},
    {"bmp_huge_dims.bmp", false, StatusCode::kCorrupt,
     "pixel data ends early: the header declares 10000x10000 at 24 bits \\(300000000 bytes from offset 54\\)"},
    {"bmp_lying_offset.bmp", false, StatusCode::kCorrupt, "from offset 4294967280\\) but the file has 822 bytes"},
    {"bmp_negative_height.bmp", false, StatusCode::kInvalidArgument, "1x2147483647 .* over the 100 MP limit"},
    {"webp_huge_chunk.webp", false, StatusCode::kCorrupt, "truncated or corrupt WebP: the RIFF header declares"},
    {"heif_huge_ispe.heic", false, StatusCode::kInvalidArgument, "30000x30000 .* over the 100 MP limit"},
    {"heif_huge_extent.heic", false, StatusCode::kCorrupt, "truncated or corrupt HEIF: .*Security limit exceeded"},
};
INSTANTIATE_TEST_SUITE_P(Files, HostileImageTest, ::testing::ValuesIn(kHostileImages),
                         [](const ::testing::TestParamInfo<Expectation>& info) {
                           std::string name = info.param.file;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// A lossless WebP may legitimately be tiny at any size (a one-colour image codes in 0 bits a
// pixel), so no byte count can refuse it: its output buffer (3 bytes a pixel, under the pixel
// limit and in the probe's estimate, hence in the indexer's budget) is what it costs.
TEST(HostileWebpTest, HugeDeclaredLosslessCostsOnlyItsBudgetedOutput) {
  const std::string path = (HostileDir() / "webp_huge_dims.webp").string();
  const auto bytes = ReadBytes(path);
  auto info = ProbeImage(bytes.data(), bytes.size(), DecodeOptions{});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->width, 16384);
  EXPECT_EQ(info->height, 6000);
  auto decoded = DecodeImage(bytes.data(), bytes.size(), DecodeOptions{});
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorrupt);
  const uint64_t peak = DecodePeakRss(path);
  EXPECT_GT(peak, 0u);
  EXPECT_LT(peak, info->decode_bytes) << "peak RSS " << (peak >> 20) << " MiB";
}

TEST(HostileVideoTest, HugeDeclaredSampleSizesEndTheVideoWithAReason) {
  auto video = VideoFrames::Open((HostileDir() / "mp4_huge_samples.mp4").string(), DecodeOptions{});
  ASSERT_TRUE(video.ok()) << video.status().ToString();
  RgbImage frame;
  double t = 0;
  Status error;
  for (int i = 0; i < 100; ++i) {
    auto more = (*video)->Next(2.0, &frame, &t);
    if (!more.ok()) {
      error = more.status();
      break;
    }
    if (!*more) break;
  }
  EXPECT_EQ(error.code(), StatusCode::kCorrupt) << error.ToString();
  EXPECT_TRUE(std::regex_search(error.message(), std::regex("video data ends early"))) << error.message();
}

// --max-decode-seconds: a limit already past when the decode starts fails every format at its
// first check, with the reason.
TEST(DecodeTimeLimitTest, EveryDecoderStopsPastTheLimit) {
  DecodeOptions options;
  options.max_decode_seconds = 1e-9;
  for (const char* name : {"photo_interlaced.png", "photo.jpg", "photo_lossy.webp", "photo_lossless.webp",
                           "photo.tif", "photo.gif", "photo.bmp", "photo.heic"}) {
    SCOPED_TRACE(name);
    const auto bytes = ReadBytes(testing::TestData(name));
    auto image = DecodeImage(bytes.data(), bytes.size(), options);
    ASSERT_FALSE(image.ok());
    EXPECT_EQ(image.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(image.status().message(), "decoding took over 1e-09 s (--max-decode-seconds)");
  }
  auto video = VideoFrames::Open(testing::TestData("clip.mp4"), options);
  ASSERT_FALSE(video.ok());
  EXPECT_EQ(video.status().message(), "decoding took over 1e-09 s (--max-decode-seconds)");
}

TEST(DecodeTimeLimitTest, ZeroMeansNoLimitAndTheDefaultIsGenerous) {
  EXPECT_EQ(DecodeOptions{}.max_decode_seconds, 120);
  DecodeOptions options;
  options.max_decode_seconds = 0;
  const auto bytes = ReadBytes(testing::TestData("photo_interlaced.png"));
  EXPECT_TRUE(DecodeImage(bytes.data(), bytes.size(), options).ok());
}

}  // namespace
}  // namespace mediadex::media
