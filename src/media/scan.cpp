#include "media/scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

namespace mediadex::media {
namespace {

// Folders that hold no photos a person took: NAS thumbnails, trash, OS bookkeeping.
bool IsSystemFolder(const std::string& name) {
  static const std::set<std::string> kSystem = {
      "@eaDir", "#recycle", "$RECYCLE.BIN", "System Volume Information", "lost+found",
      "__MACOSX", "node_modules"};
  return kSystem.count(name) > 0;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Why a path that is neither a folder nor a regular file is not read: a FIFO would block the
// reader forever and a device (a symlink to /dev/zero) never ends.
std::string NotRegular(mode_t mode) {
  const char* kind = S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) ? "a character device" : S_ISBLK(mode) ? "a block device"
                     : S_ISSOCK(mode) ? "a socket" : "not a file";
  return std::string("not a regular file (") + kind + ")";
}

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

class Scanner {
 public:
  Scanner(const ScanOptions& options, ScanReport& report)
      : options_(options), report_(report),
        extensions_(options.extensions.begin(), options.extensions.end()),
        videos_(options.video_extensions.begin(), options.video_extensions.end()) {}

  void ScanRoot(const std::string& root) {
    const std::string path = std::filesystem::absolute(root).lexically_normal().string();
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      Warn(path, std::strerror(errno));
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      ScanDirectory(path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path, st);
    } else if (S_ISREG(st.st_mode)) {
      AddFile(path, st, /*check_extension=*/false);  // named explicitly: the user wants it
    } else {
      Warn(path, NotRegular(st.st_mode));  // named explicitly: say why nothing came of it
    }
  }

 private:
  void Warn(const std::string& path, const std::string& reason) {
    report_.warnings.push_back(path + ": " + reason + " (skipped)");
  }

  bool Wanted(const std::string& name) const {
    if (extensions_.empty()) return true;
    return extensions_.count(ExtensionOf(name)) > 0;
  }

  void AddFile(const std::string& path, const struct stat& st, bool check_extension) {
    const std::string name = path.substr(path.rfind('/') + 1);
    if (check_extension && !Wanted(name)) return;
    ScannedFile f;
    f.path = path;
    f.size = static_cast<uint64_t>(st.st_size);
    f.mtime_ns = MtimeNs(st);
    f.is_video = videos_.count(ExtensionOf(name)) > 0;
    report_.files.push_back(std::move(f));
  }

  void ScanDirectory(const std::string& path, const struct stat& dir_stat) {
    // Each folder once, whatever symlinks lead to it: no loops, no duplicates.
    if (!visited_.insert({dir_stat.st_dev, dir_stat.st_ino}).second) return;
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) {
      Warn(path, std::strerror(errno));
      return;
    }
    ++report_.directories;
    const int fd = ::dirfd(dir);
    std::vector<std::pair<std::string, struct stat>> subdirs;
    errno = 0;
    while (struct dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (!options_.include_hidden && (name[0] == '.' || IsSystemFolder(name))) continue;
      struct stat st;
      if (::fstatat(fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) Warn(path + "/" + name, std::strerror(errno));  // ENOENT: vanished
        continue;
      }
      if (S_ISLNK(st.st_mode)) {
        if (!options_.follow_symlinks) continue;
        if (::fstatat(fd, name.c_str(), &st, 0) != 0) {
          Warn(path + "/" + name, std::string("broken symlink: ") + std::strerror(errno));
          continue;
        }
      }
      if (S_ISDIR(st.st_mode)) {
        subdirs.emplace_back(path + "/" + name, st);
      } else if (S_ISREG(st.st_mode) && Wanted(name)) {
        AddFile(path + "/" + name, st, /*check_extension=*/false);
      } else if (Wanted(name) && !extensions_.empty()) {
        Warn(path + "/" + name, NotRegular(st.st_mode));  // a FIFO or device named like a photo
      }
    }
    ::closedir(dir);
    for (const auto& [subdir, st] : subdirs) ScanDirectory(subdir, st);
  }

  const ScanOptions& options_;
  ScanReport& report_;
  std::set<std::string> extensions_;
  std::set<std::string> videos_;
  std::set<std::pair<dev_t, ino_t>> visited_;
};

}  // namespace

ScanReport ScanTree(const std::vector<std::string>& roots, const ScanOptions& options) {
  ScanReport report;
  Scanner scanner(options, report);
  for (const auto& root : roots) scanner.ScanRoot(root);
  std::sort(report.files.begin(), report.files.end(),
            [](const ScannedFile& a, const ScannedFile& b) { return a.path < b.path; });
  report.files.erase(std::unique(report.files.begin(), report.files.end(),
                                 [](const ScannedFile& a, const ScannedFile& b) { return a.path == b.path; }),
                     report.files.end());
  return report;
}

std::string ExtensionOf(const std::string& path) {
  const std::string name = path.substr(path.find_last_of('/') + 1);  // npos + 1 == 0
  const auto dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return "";  // none, or a hidden file's leading dot
  return Lower(name.substr(dot + 1));
}

std::vector<std::string> ParseExtensions(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string ext = list.substr(start, comma - start);
    ext.erase(std::remove_if(ext.begin(), ext.end(), [](unsigned char c) { return std::isspace(c); }), ext.end());
    if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
    if (!ext.empty()) out.push_back(Lower(ext));
    start = comma + 1;
  }
  return out;
}

}  // namespace mediadex::media
