// Test libraries built from the real photos in a temporary folder.
#ifndef MEDIADEX_TESTS_PIPELINE_LIBRARY_H_
#define MEDIADEX_TESTS_PIPELINE_LIBRARY_H_

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "testutil.h"
#include "core/files.h"

namespace mediadex::testing {

class TempLibrary {
 public:
  explicit TempLibrary(const std::string& name) {
    root_ = std::filesystem::temp_directory_path() /
            ("mediadex_" + name + "_" + std::to_string(::getpid()));
    RemoveTree(root_);
    std::filesystem::create_directories(root_ / "photos");
  }
  ~TempLibrary() {
    if (!std::getenv("MEDIADEX_KEEP_TEST_DIR")) RemoveTree(root_);
  }
  std::filesystem::path photos() const { return root_ / "photos"; }
  std::string catalog(const std::string& name = "catalog.db") const { return (root_ / name).string(); }

  // Copies a photo from the shared test set to photos/<rel>.
  std::filesystem::path AddPhoto(const std::string& photo, const std::string& rel) {
    const auto dst = photos() / rel;
    std::filesystem::create_directories(dst.parent_path());
    std::filesystem::copy_file(Photo(photo), dst, std::filesystem::copy_options::overwrite_existing);
    return dst;
  }
  std::filesystem::path AddBytes(const std::string& rel, const std::string& bytes) {
    const auto dst = photos() / rel;
    std::filesystem::create_directories(dst.parent_path());
    std::ofstream(dst, std::ios::binary) << bytes;
    return dst;
  }
  std::string ReadPhoto(const std::string& photo) const {
    std::ifstream in(Photo(photo), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
  }

 private:
  std::filesystem::path root_;
};

}  // namespace mediadex::testing

#endif  // MEDIADEX_TESTS_PIPELINE_LIBRARY_H_
