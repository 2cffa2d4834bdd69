// The gallery's files: compiled in (embedded_files.h), or with --dev read from the source
// tree's web/ on every request. Paths are checked before any lookup: no "..", no absolute
// paths, no backslashes, no hidden files; a file outside web/ is never served.
#ifndef MEDIADEX_SERVER_STATIC_ASSETS_H_
#define MEDIADEX_SERVER_STATIC_ASSETS_H_

#include <string>

#include "server/http_types.h"

namespace mediadex::server {

class StaticAssets {
 public:
  // dev_dir: the source tree's web/ for --dev, "" for the embedded copy.
  explicit StaticAssets(std::string dev_dir) : dev_dir_(std::move(dev_dir)) {}
  // The file for a request path ("/" = index.html); false when there is none (404).
  bool Find(const std::string& path, Response* out) const;
  // An embedded file by its name ("openapi.json").
  static bool Embedded(const std::string& name, std::string* bytes);

 private:
  std::string dev_dir_;
};

const char* MimeType(const std::string& path);  // by extension

// A request path that names a file below a root safely ("a/b.js"), or "" when it does not.
std::string SafeRelativePath(const std::string& path);

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_STATIC_ASSETS_H_
