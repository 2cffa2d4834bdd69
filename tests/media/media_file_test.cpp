// MediaFile: only regular files are read, without blocking, and never past their size at open.
#include "media/media_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "core/files.h"

namespace mediadex::media {
namespace {
namespace fs = std::filesystem;

class MediaFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mediadex_media_file_" + std::to_string(::getpid()));
    RemoveTree(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { RemoveTree(dir_); }
  fs::path dir_;
};

TEST_F(MediaFileTest, AFifoIsRefusedAtOnceNotWaitedOn) {
  const fs::path fifo = dir_ / "fifo.jpg";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const auto start = std::chrono::steady_clock::now();
  auto file = MediaFile::Open(fifo.string());  // no writer: a blocking open would hang here
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 5.0);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(file.status().message(), "not a regular file (a FIFO)");
}

TEST_F(MediaFileTest, ASymlinkToDevZeroIsRefusedAsTheDeviceItLeadsTo) {
  fs::create_symlink("/dev/zero", dir_ / "zero.jpg");
  auto file = MediaFile::Open((dir_ / "zero.jpg").string());
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().message(), "not a regular file (a character device)");
}

TEST_F(MediaFileTest, DirectoriesAndMissingFilesAreTheUsualErrors) {
  auto dir = MediaFile::Open(dir_.string());
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), StatusCode::kIOError);
  EXPECT_EQ(dir.status().message(), "Is a directory");
  auto missing = MediaFile::Open((dir_ / "missing.jpg").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(MediaFileTest, ReadsTheSizeAtOpenAndSaysWhenTheFileShrank) {
  const fs::path path = dir_ / "a.jpg";
  std::ofstream(path, std::ios::binary) << "0123456789";
  auto file = MediaFile::Open(path.string());
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->size(), 10u);
  auto head = file->ReadHead(4);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(std::string(head->begin(), head->end()), "0123");
  std::ofstream(path, std::ios::binary | std::ios::app) << "grown";  // grew: cut at the size at open
  auto all = file->ReadAll();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(std::string(all->begin(), all->end()), "0123456789");
  ASSERT_EQ(::truncate(path.c_str(), 3), 0);
  auto shrunk = file->ReadAll();
  ASSERT_FALSE(shrunk.ok());
  EXPECT_EQ(shrunk.status().message(), "file shrank while it was read");
}

}  // namespace
}  // namespace mediadex::media
