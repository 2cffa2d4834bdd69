#include "core/files.h"

namespace mediadex {

void RemoveTree(const std::filesystem::path& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // symlink_status: a link to a folder is removed, never followed.
  if (fs::is_directory(fs::symlink_status(path, ec))) {
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      RemoveTree(it->path());
    }
  }
  fs::remove(path, ec);
}

}  // namespace mediadex
