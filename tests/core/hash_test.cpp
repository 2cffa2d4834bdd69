#include "core/hash.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "testutil.h"

namespace mediadex {
namespace {

std::string WriteTemp(const std::string& name, const std::string& content) {
  auto path = std::filesystem::temp_directory_path() / ("mediadex_hash_" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

TEST(HashTest, SameBytesSameHashDifferentBytesDifferentHash) {
  EXPECT_EQ(HashBytes("abc", 3), HashBytes("abc", 3));
  EXPECT_NE(HashBytes("abc", 3), HashBytes("abd", 3));
}

TEST(HashTest, FilesHashIsStableHexAndContentSensitive) {
  const auto a = WriteTemp("a", "weights-1");
  const auto b = WriteTemp("b", "weights-2");
  auto ha = HashFilesHex({a});
  ASSERT_OK(ha);
  EXPECT_EQ(ha->size(), 16u);
  auto ha2 = HashFilesHex({a});
  ASSERT_OK(ha2);
  EXPECT_EQ(*ha, *ha2);
  auto hb = HashFilesHex({b});
  ASSERT_OK(hb);
  EXPECT_NE(*ha, *hb);
  EXPECT_EQ(HashBytes("weights-1", 9), std::stoull(*ha, nullptr, 16));
}

TEST(HashTest, MissingFileIsIOErrorNamingIt) {
  auto h = HashFilesHex({"/nonexistent/model.bin"});
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kIOError);
  EXPECT_NE(h.status().message().find("/nonexistent/model.bin"), std::string::npos);
}

}  // namespace
}  // namespace mediadex
