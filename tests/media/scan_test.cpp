#include "media/scan.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include "core/files.h"

namespace mediadex::media {
namespace {
namespace fs = std::filesystem;

class ScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("mediadex_scan_" + std::to_string(::getpid()));
    RemoveTree(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_ / "locked", fs::perms::owner_all, ec);
    RemoveTree(root_);
  }
  void Touch(const fs::path& rel, const std::string& content = "x") {
    fs::create_directories((root_ / rel).parent_path());
    std::ofstream(root_ / rel) << content;
  }
  std::vector<std::string> Relative(const ScanReport& r) {
    std::vector<std::string> out;
    for (const auto& f : r.files) out.push_back(fs::path(f.path).lexically_relative(root_).string());
    return out;
  }
  fs::path root_;
};

TEST_F(ScanTest, FindsWantedExtensionsRecursivelySortedCaseInsensitive) {
  Touch("b/2.JPG");
  Touch("a/1.jpg");
  Touch("a/deep/er/3.png");
  Touch("a/notes.txt");
  Touch("clip.MP4");
  ScanOptions options;
  options.extensions = ParseExtensions("jpg, .PNG,mp4");
  auto r = ScanTree({root_.string()}, options);
  EXPECT_EQ(Relative(r), (std::vector<std::string>{"a/1.jpg", "a/deep/er/3.png", "b/2.JPG", "clip.MP4"}));
  EXPECT_TRUE(r.warnings.empty());
  EXPECT_TRUE(r.files.back().is_video);
  EXPECT_FALSE(r.files.front().is_video);
  EXPECT_EQ(r.files.front().size, 1u);
  EXPECT_GT(r.files.front().mtime_ns, 0);
}

TEST_F(ScanTest, SkipsHiddenAndSystemFoldersUnlessAsked) {
  Touch(".thumbnails/t.jpg");
  Touch("@eaDir/x.jpg");
  Touch(".hidden.jpg");
  Touch("visible.jpg");
  ScanOptions options;
  options.extensions = {"jpg"};
  EXPECT_EQ(Relative(ScanTree({root_.string()}, options)), std::vector<std::string>{"visible.jpg"});
  options.include_hidden = true;
  EXPECT_EQ(ScanTree({root_.string()}, options).files.size(), 4u);
}

TEST_F(ScanTest, SurvivesSymlinkLoopsAndListsEachFileOnce) {
  Touch("photos/p.jpg");
  fs::create_directory_symlink(root_, root_ / "photos/loop");
  fs::create_directory_symlink(root_ / "photos", root_ / "alias");
  fs::create_symlink(root_ / "nowhere.jpg", root_ / "broken.jpg");
  ScanOptions options;
  options.extensions = {"jpg"};
  auto r = ScanTree({root_.string()}, options);
  ASSERT_EQ(r.files.size(), 1u) << "each folder is entered once, whatever links lead to it";
  EXPECT_EQ(r.warnings.size(), 1u);  // the broken symlink, named
  EXPECT_NE(r.warnings[0].find("broken.jpg"), std::string::npos);
}

TEST_F(ScanTest, UnreadableFolderIsAWarningAndTheRestIsScanned) {
  if (::geteuid() == 0) {
    // root reads every folder: make one unreadable by removing it between stat and open is racy,
    // so test the missing-root path instead, which goes through the same warning code.
    Touch("ok.jpg");
    auto r = ScanTree({(root_ / "missing").string(), root_.string()}, ScanOptions{{"jpg"}});
    EXPECT_EQ(r.files.size(), 1u);
    ASSERT_EQ(r.warnings.size(), 1u);
    EXPECT_NE(r.warnings[0].find("missing"), std::string::npos);
    return;
  }
  Touch("locked/secret.jpg");
  Touch("ok.jpg");
  fs::permissions(root_ / "locked", fs::perms::none);
  auto r = ScanTree({root_.string()}, ScanOptions{{"jpg"}});
  EXPECT_EQ(r.files.size(), 1u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("locked"), std::string::npos);
}

TEST_F(ScanTest, AFileNamedDirectlyIsTakenWhateverItsExtension) {
  Touch("odd.name");
  auto r = ScanTree({(root_ / "odd.name").string()}, ScanOptions{{"jpg"}});
  ASSERT_EQ(r.files.size(), 1u);
}

// A FIFO would block a reader forever and /dev/zero never ends: neither is listed, and each
// named directly or named like a photo gets a warning saying why (other special files in a
// folder, with extensions not asked for, stay silent).
TEST_F(ScanTest, FifosAndDevicesAreWarningsNotFiles) {
  Touch("lib/good.jpg");
  ASSERT_EQ(::mkfifo((root_ / "fifo.jpg").c_str(), 0644), 0);
  ASSERT_EQ(::mkfifo((root_ / "lib" / "pipe.jpg").c_str(), 0644), 0);
  ASSERT_EQ(::mkfifo((root_ / "lib" / "quiet.fifo").c_str(), 0644), 0);
  fs::create_symlink("/dev/zero", root_ / "lib" / "zero.jpg");
  auto r = ScanTree({(root_ / "fifo.jpg").string(), (root_ / "lib").string()}, ScanOptions{{"jpg"}});
  EXPECT_EQ(Relative(r), (std::vector<std::string>{"lib/good.jpg"}));
  ASSERT_EQ(r.warnings.size(), 3u);
  std::sort(r.warnings.begin(), r.warnings.end());  // a folder's entries come in readdir's order
  EXPECT_EQ(r.warnings[0], (root_ / "fifo.jpg").string() + ": not a regular file (a FIFO) (skipped)");
  EXPECT_EQ(r.warnings[1], (root_ / "lib" / "pipe.jpg").string() + ": not a regular file (a FIFO) (skipped)");
  EXPECT_EQ(r.warnings[2],
            (root_ / "lib" / "zero.jpg").string() + ": not a regular file (a character device) (skipped)");
}

TEST(ExtensionOfTest, LowerCaseWithoutTheDotAndNoneForHiddenFiles) {
  EXPECT_EQ(ExtensionOf("/photos/2024.trip/IMG_1.JPG"), "jpg");
  EXPECT_EQ(ExtensionOf("b.tar.GZ"), "gz");
  EXPECT_EQ(ExtensionOf("/photos/2024.trip/README"), "");
  EXPECT_EQ(ExtensionOf("/photos/.jpg"), "");
  EXPECT_EQ(ExtensionOf("noext"), "");
}

TEST(ParseExtensionsTest, NormalisesTheList) {
  EXPECT_EQ(ParseExtensions(" JPG,.png,, webp "), (std::vector<std::string>{"jpg", "png", "webp"}));
  EXPECT_TRUE(ParseExtensions("").empty());
}

}  // namespace
}  // namespace mediadex::media
