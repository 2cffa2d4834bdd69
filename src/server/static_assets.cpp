#include "server/static_assets.h"

#include <sys/stat.h>

#include <cctype>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "server/embedded_files.h"

namespace mediadex::server {

const char* MimeType(const std::string& path) {
  const size_t dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const struct {
    const char* ext;
    const char* type;
  } kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"jpe", "image/jpeg"},
      {"webp", "image/webp"},
      {"gif", "image/gif"},
      {"bmp", "image/bmp"},
      {"tif", "image/tiff"},
      {"tiff", "image/tiff"},
      {"heic", "image/heic"},
      {"heif", "image/heif"},
      {"avif", "image/avif"},
      {"ico", "image/x-icon"},
      {"mp4", "video/mp4"},
      {"m4v", "video/mp4"},
      {"mov", "video/quicktime"},
      {"webm", "video/webm"},
      {"mkv", "video/x-matroska"},
      {"avi", "video/x-msvideo"},
      {"txt", "text/plain; charset=utf-8"},
      {"woff2", "font/woff2"},
      {"map", "application/json"},
  };
  for (const auto& t : kTypes)
    if (ext == t.ext) return t.type;
  return "application/octet-stream";
}

std::string SafeRelativePath(const std::string& path) {
  std::string rel = path == "/" ? "index.html" : path.substr(1);
  if (rel.empty() || rel.back() == '/') rel += "index.html";
  if (rel.find('\\') != std::string::npos || rel.find('\0') != std::string::npos) return "";
  size_t start = 0;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    const std::string seg = rel.substr(start, end - start);
    if (seg.empty() || seg[0] == '.') return "";  // "", ".", "..", hidden files
    start = end + 1;
  }
  return rel;
}

bool StaticAssets::Embedded(const std::string& name, std::string* bytes) {
  for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
    if (name == kEmbeddedFiles[i].name) {
      bytes->assign(reinterpret_cast<const char*>(kEmbeddedFiles[i].data), kEmbeddedFiles[i].size);
      return true;
    }
  }
  return false;
}

bool StaticAssets::Find(const std::string& path, Response* out) const {
  const std::string rel = SafeRelativePath(path);
  if (rel.empty()) return false;
  std::string bytes;
  if (!dev_dir_.empty()) {
    const std::string file = dev_dir_ + "/" + rel;
    struct stat st;
    if (::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;  // no symlinked files
    // Nor a symlinked folder on the way: the resolved file must still lie inside web/.
    char root_real[PATH_MAX], file_real[PATH_MAX];
    if (!::realpath(dev_dir_.c_str(), root_real) || !::realpath(file.c_str(), file_real)) return false;
    const std::string root = std::string(root_real) + "/";
    if (std::string(file_real).compare(0, root.size(), root) != 0) return false;
    std::ifstream in(file, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    bytes = ss.str();
    out->Set("Cache-Control", "no-store");
  } else {
    if (!Embedded("web/" + rel, &bytes)) return false;
    out->Set("Cache-Control", "no-cache");
  }
  out->status = 200;
  out->body = std::move(bytes);
  out->Set("Content-Type", MimeType(rel));
  return true;
}

}  // namespace mediadex::server
