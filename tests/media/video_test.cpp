// VideoFrames on tiny clips made by tests/data/make_fixtures.sh (ffmpeg CLI): 5 s, 10 fps.
#include "media/video.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "media_test_util.h"
#include "testutil.h"

namespace mediadex::media {
namespace {

using ::mediadex::testing::TestData;
using testutil::ExpectUprightQuadrants;

struct Collected {
  std::vector<double> times;
  std::vector<RgbImage> frames;
  Status end;  // OK when the video ended cleanly
};

Collected Collect(VideoFrames* video, double interval) {
  Collected c;
  for (int guard = 0; guard < 1000; ++guard) {
    RgbImage frame;
    double t = -1;
    auto more = video->Next(interval, &frame, &t);
    if (!more.ok()) {
      c.end = more.status();
      break;
    }
    if (!*more) break;
    c.times.push_back(t);
    c.frames.push_back(std::move(frame));
  }
  return c;
}

std::unique_ptr<VideoFrames> OpenOk(const std::string& name, DecodeOptions options = {}) {
  auto video = VideoFrames::Open(TestData(name), options);
  EXPECT_OK(video);
  return video.ok() ? std::move(*video) : nullptr;
}

TEST(VideoTest, EveryTwoSecondsOfAFiveSecondClip) {
  for (const char* name : {"clip.mp4", "clip.webm"}) {
    SCOPED_TRACE(name);
    auto video = OpenOk(name);
    ASSERT_NE(video, nullptr);
    EXPECT_NEAR(video->info().duration_s, 5.0, 0.15);
    EXPECT_EQ(video->info().width, 160);
    EXPECT_EQ(video->info().height, 120);
    EXPECT_GE(video->frame_bytes(), 160u * 120 * 3);
    const Collected c = Collect(video.get(), 2.0);
    EXPECT_OK(c.end);
    ASSERT_EQ(c.times.size(), 3u);
    EXPECT_NEAR(c.times[0], 0.0, 0.01);
    EXPECT_NEAR(c.times[1], 2.0, 0.01);
    EXPECT_NEAR(c.times[2], 4.0, 0.01);
    for (const auto& f : c.frames) {
      EXPECT_EQ(f.width, 160);
      EXPECT_EQ(f.height, 120);
      EXPECT_EQ(f.pixels.size(), 160u * 120 * 3);
    }
    // testsrc moves: frames at different times differ.
    EXPECT_NE(c.frames[0].pixels, c.frames[1].pixels);
  }
}

TEST(VideoTest, SeeksAcrossLongGapsToTheSameFrames) {
  auto video = OpenOk("clip.mp4");
  ASSERT_NE(video, nullptr);
  const Collected seek = Collect(video.get(), 3.0);  // 3 s > the seek threshold
  EXPECT_OK(seek.end);
  ASSERT_EQ(seek.times.size(), 2u);
  EXPECT_NEAR(seek.times[1], 3.0, 0.01);
  auto forward = OpenOk("clip.mp4");
  const Collected every = Collect(forward.get(), 0.1);  // every frame, decoding forward
  ASSERT_EQ(every.times.size(), 50u);
  EXPECT_NEAR(every.times[30], 3.0, 0.01);
  EXPECT_EQ(seek.frames[1].pixels, every.frames[30].pixels);
}

TEST(VideoTest, ScaledDownKeepingAspectNeverUp) {
  DecodeOptions options;
  options.target_width = 80;
  options.target_height = 60;
  auto half = OpenOk("clip.mp4", options);
  ASSERT_NE(half, nullptr);
  const Collected a = Collect(half.get(), 2.0);
  ASSERT_FALSE(a.frames.empty());
  EXPECT_EQ(a.frames[0].width, 80);
  EXPECT_EQ(a.frames[0].height, 60);
  EXPECT_EQ(a.frames[0].full_width, 160);
  options.target_width = 100;  // 100/160 > 10/120: width decides, height follows the aspect
  options.target_height = 10;
  auto wide = OpenOk("clip.mp4", options);
  const Collected b = Collect(wide.get(), 2.0);
  ASSERT_FALSE(b.frames.empty());
  EXPECT_EQ(b.frames[0].width, 100);
  EXPECT_EQ(b.frames[0].height, 75);
  options.target_width = options.target_height = 1000;
  auto big = OpenOk("clip.mp4", options);
  const Collected c = Collect(big.get(), 2.0);
  ASSERT_FALSE(c.frames.empty());
  EXPECT_EQ(c.frames[0].width, 160);
  EXPECT_LT(half->frame_bytes(), big->frame_bytes());
}

TEST(VideoTest, RotationMetadataMakesFramesUpright) {
  auto video = OpenOk("rotated90.mp4");
  ASSERT_NE(video, nullptr);
  EXPECT_EQ(video->info().width, 64);
  EXPECT_EQ(video->info().height, 48);
  const Collected c = Collect(video.get(), 2.0);
  EXPECT_OK(c.end);
  ASSERT_EQ(c.frames.size(), 3u);
  ExpectUprightQuadrants(c.frames[0], 20);
  ExpectUprightQuadrants(c.frames[2], 20);
}

TEST(VideoTest, Errors) {
  auto missing = VideoFrames::Open(TestData("no_such_clip.mp4"), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto text = VideoFrames::Open(TestData("not_a_video.mp4"), {});
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), StatusCode::kCorrupt) << text.status().ToString();
  auto empty = VideoFrames::Open(TestData("empty.jpg"), {});
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kCorrupt);
  auto dir = VideoFrames::Open(MEDIADEX_TEST_DATA, {});
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kIOError);
  DecodeOptions small;
  small.max_pixels = 160 * 120 - 1;
  auto over = VideoFrames::Open(TestData("clip.mp4"), small);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(over.status().message().find("160x120"), std::string::npos);
}

TEST(VideoTest, TruncatedGivesTheFramesBeforeTheDamageThenCorrupt) {
  auto video = OpenOk("truncated.mp4");
  ASSERT_NE(video, nullptr);
  const Collected c = Collect(video.get(), 1.0);
  EXPECT_GE(c.frames.size(), 1u);
  EXPECT_LT(c.frames.size(), 5u);
  ASSERT_FALSE(c.end.ok()) << "a half file must not look complete";
  EXPECT_EQ(c.end.code(), StatusCode::kCorrupt) << c.end.ToString();
}

}  // namespace
}  // namespace mediadex::media
