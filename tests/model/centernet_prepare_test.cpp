// Detector::Prepare (run on decode threads) gives Detect exactly the input it would make itself,
// drops the pixels, and serves every detector of the same model.
#include <gtest/gtest.h>

#include "engine/device.h"
#include "media/decoder.h"
#include "model/detector.h"
#include "testutil.h"

namespace mediadex {
namespace {

TEST(CenternetPrepareTest, PreparedImagesGiveExactlyTheSameDetections) {
  auto cpu = engine::PickDevice({"cpu", false});
  ASSERT_OK(cpu);
  auto detector = model::LoadDetector({testing::CenternetModelPath()}, cpu->device);
  auto other = model::LoadDetector({testing::CenternetModelPath()}, cpu->device);
  ASSERT_OK(detector);
  ASSERT_OK(other);
  for (const char* photo : {"human-samples.jpg", "skimage-coffee.png"}) {
    media::DecodeOptions o;
    o.target_width = (*detector)->info().decode_width;
    o.target_height = (*detector)->info().decode_height;
    auto image = media::DecodeFile(testing::Photo(photo), o);
    ASSERT_OK(image);
    auto want = (*detector)->Detect({&*image}, {});
    ASSERT_OK(want);
    ASSERT_FALSE(want->front().empty()) << photo;

    ASSERT_OK((*detector)->Prepare(&*image));
    EXPECT_TRUE(image->pixels.empty()) << "the pixels are dropped once prepared";
    ASSERT_TRUE(image->prepared);
    for (const auto* d : {detector->get(), other->get()}) {
      auto got = d->Detect({&*image}, {});
      ASSERT_OK(got);
      ASSERT_EQ(got->front().size(), want->front().size()) << photo;
      for (size_t i = 0; i < want->front().size(); ++i) {
        const Detection &w = want->front()[i], &g = got->front()[i];
        EXPECT_EQ(g.label, w.label) << photo;
        EXPECT_EQ(g.score, w.score) << photo;
        EXPECT_EQ(g.box.x1, w.box.x1) << photo;
        EXPECT_EQ(g.box.y2, w.box.y2) << photo;
      }
    }
  }
}

}  // namespace
}  // namespace mediadex
