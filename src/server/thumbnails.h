// Thumbnails made on demand: decoded with the project's bounded decoders (EXIF orientation
// applied), shrunk to a fixed longest side, encoded as WebP and cached on disk under a size cap
// (oldest evicted first). Each thumbnail is made once even when many requests ask at the same
// time (single-flight); the work runs on a bounded pool, never on an I/O thread.
#ifndef MEDIADEX_SERVER_THUMBNAILS_H_
#define MEDIADEX_SERVER_THUMBNAILS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "server/work_pool.h"

namespace mediadex::server {

struct ThumbSize {
  const char* name;  // "grid" | "preview"
  int longest_side;
};
// nullptr for an unknown name.
const ThumbSize* FindThumbSize(const std::string& name);

struct ThumbResult {
  std::string file;   // the cached WebP, when made
  std::string error;  // why not (then serve the placeholder)
};

inline constexpr const char* kThumbBusy = "busy";

struct ThumbnailOptions {
  std::string cache_dir;  // "<catalog>.thumbs"
  uint64_t max_cache_bytes = 2ull << 30;
  int threads = 2;
  uint64_t max_pixels = 100'000'000;
  double max_decode_seconds = 30;
};

class Thumbnails {
 public:
  explicit Thumbnails(ThumbnailOptions options);
  ~Thumbnails();

  // Calls `done` exactly once (on a pool thread, or at once when cached) with the thumbnail of
  // `item` at `size`; error kThumbBusy when the pool's queue is full (answer 503).
  void Get(const catalog::MediaItem& item, const ThumbSize& size, std::function<void(ThumbResult)> done);

  // A small grey WebP, shown for files that cannot be decoded.
  const std::string& placeholder() const { return placeholder_; }
  uint64_t cache_bytes();

 private:
  ThumbResult Make(const catalog::MediaItem& item, const ThumbSize& size, const std::string& file);
  void Account(uint64_t added);

  ThumbnailOptions options_;
  std::string placeholder_;
  std::mutex mu_;
  std::map<std::string, std::vector<std::function<void(ThumbResult)>>> waiting_;  // single-flight
  uint64_t cache_bytes_ = 0;
  std::unique_ptr<WorkPool> pool_;
};

// Area-average downscale of 8-bit RGB (exposed for tests).
std::vector<uint8_t> ResizeRgb(const uint8_t* src, int sw, int sh, int dw, int dh);

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_THUMBNAILS_H_
