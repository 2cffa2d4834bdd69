// Helpers shared by the catalog tests: a temp dir per test and short builders for rows.
#ifndef MEDIADEX_TESTS_CATALOG_CATALOG_TEST_UTIL_H_
#define MEDIADEX_TESTS_CATALOG_CATALOG_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "testutil.h"
#include "core/files.h"

namespace mediadex::catalog::testing {

// A fresh directory under $TMPDIR, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "mdx-catalog-XXXXXX").string();
    path_ = mkdtemp(tmpl.data()) ? tmpl : std::string();
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) RemoveTree(path_);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The value of a Result, or T{} after a test failure that prints why.
template <typename T>
T Get(Result<T> result) {
  EXPECT_OK(result);
  return result.ok() ? std::move(result).value() : T{};
}

inline std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

inline FileStat Stat(const std::string& path, uint64_t size, int64_t mtime_ns,
                     MediaKind kind = MediaKind::kImage) {
  FileStat f;
  f.path = path;
  f.size = size;
  f.mtime_ns = mtime_ns;
  f.kind = kind;
  return f;
}

inline StoredDetection Det(const std::string& label, float score, float x1 = 1, float y1 = 2, float x2 = 30,
                           float y2 = 40, double time_s = -1) {
  StoredDetection d;
  d.detection.label = label;
  d.detection.class_id = static_cast<int>(label.size());
  d.detection.score = score;
  d.detection.box = {x1, y1, x2, y2};
  d.time_s = time_s;
  return d;
}

inline MediaResult Ok(int64_t media_id, std::vector<StoredDetection> detections, std::string hash = "") {
  MediaResult r;
  r.media_id = media_id;
  r.ok = true;
  r.content_hash = hash.empty() ? "hash" + std::to_string(media_id) : hash;
  r.width = 640;
  r.height = 480;
  r.orientation = 6;
  r.capture_time = 1700000000;
  r.detections = std::move(detections);
  return r;
}

inline MediaResult Failed(int64_t media_id, std::string error) {
  MediaResult r;
  r.media_id = media_id;
  r.ok = false;
  r.error = std::move(error);
  return r;
}

}  // namespace mediadex::catalog::testing

#endif  // MEDIADEX_TESTS_CATALOG_CATALOG_TEST_UTIL_H_
