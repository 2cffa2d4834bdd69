#include "core/detection.h"

#include <gtest/gtest.h>

namespace mediadex {
namespace {

TEST(IoUTest, HandCheckedCases) {
  const Box a{0, 0, 10, 10};
  EXPECT_FLOAT_EQ(IoU(a, a), 1.0f);
  EXPECT_FLOAT_EQ(IoU(a, Box{5, 0, 15, 10}), 50.0f / 150.0f);
  EXPECT_FLOAT_EQ(IoU(a, Box{10, 10, 20, 20}), 0.0f);  // touching corners share no area
  EXPECT_FLOAT_EQ(IoU(a, Box{2, 2, 4, 4}), 4.0f / 100.0f);
}

TEST(IoUTest, EmptyBoxesNeverOverlap) {
  EXPECT_FLOAT_EQ(IoU(Box{5, 5, 5, 5}, Box{5, 5, 5, 5}), 0.0f);
  EXPECT_FLOAT_EQ(IoU(Box{0, 0, 10, 10}, Box{8, 8, 2, 2}), 0.0f);  // inverted box has no area
}

}  // namespace
}  // namespace mediadex
