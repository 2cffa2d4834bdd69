// JpegEndsWhole: what keeps a JPEG cut short away from nvJPEG's hardware decoder, which would
// decode it without a word. Pure C++, so it runs in every build.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "engine/gpu_jpeg.h"
#include "testutil.h"

namespace mediadex::engine {
namespace {

bool EndsWhole(const std::string& bytes) {
  return JpegEndsWhole(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::string Photo() {
  std::ifstream in(testing::Photo("sklearn-china.jpg"), std::ios::binary);
  EXPECT_TRUE(in);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(JpegEndTest, AWholePhotoEndsWhole) {
  const std::string photo = Photo();
  ASSERT_GT(photo.size(), 1000u);
  EXPECT_TRUE(EndsWhole(photo));
}

TEST(JpegEndTest, APhotoCutShortDoesNot) {
  const std::string photo = Photo();
  for (size_t cut : {size_t{1}, size_t{2}, photo.size() / 4, photo.size() / 2}) {
    EXPECT_FALSE(EndsWhole(photo.substr(0, photo.size() - cut))) << "cut " << cut << " bytes";
  }
}

TEST(JpegEndTest, BytesAfterTheImageCountOnlyWithinTheWindow) {
  const std::string photo = Photo();
  EXPECT_TRUE(EndsWhole(photo + std::string(100, '\0'))) << "padding some cameras add";
  EXPECT_FALSE(EndsWhole(photo + std::string(kJpegEndWindow, 'x'))) << "a motion photo's video: decoded on the CPU";
}

TEST(JpegEndTest, TinyInputsDoNot) {
  EXPECT_FALSE(EndsWhole(""));
  EXPECT_FALSE(EndsWhole("\xFF"));
  EXPECT_TRUE(EndsWhole("\xFF\xD9"));
}

}  // namespace
}  // namespace mediadex::engine
