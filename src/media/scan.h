// Finding the media files under a set of folders.
//
//   media::ScanOptions options;
//   options.extensions = {"jpg", "png", "mp4"};
//   auto report = media::ScanTree({"/home/me/Pictures"}, options);
//   for (const auto& f : report.files) ...       // sorted by path
//   for (const auto& w : report.warnings) ...    // "/x/private: permission denied (skipped)"
//
// Robust to what real libraries contain: symlink loops (each directory is entered once, by
// device and inode), unreadable folders and files vanishing mid-scan (a warning, and the scan
// goes on), hidden and system folders (skipped unless include_hidden).
#ifndef MEDIADEX_MEDIA_SCAN_H_
#define MEDIADEX_MEDIA_SCAN_H_

#include <cstdint>
#include <string>
#include <vector>

namespace mediadex::media {

struct ScanOptions {
  std::vector<std::string> extensions;  // lowercase, without the dot; empty = every file
  std::vector<std::string> video_extensions = {"mp4", "mov", "m4v", "mkv", "webm", "avi"};
  bool include_hidden = false;          // also .hidden files/folders and system folders
  bool follow_symlinks = true;          // symlinked folders and files are followed (loop-safe)
};

struct ScannedFile {
  std::string path;      // absolute
  uint64_t size = 0;
  int64_t mtime_ns = 0;  // nanoseconds since the epoch
  bool is_video = false;
};

struct ScanReport {
  std::vector<ScannedFile> files;     // sorted by path, no duplicates
  std::vector<std::string> warnings;  // one line each: path and reason
  uint64_t directories = 0;           // folders entered
};

// Scans every root (a folder, recursively, or a single file). A root that does not exist is a
// warning, not an error: the other roots are still scanned.
ScanReport ScanTree(const std::vector<std::string>& roots, const ScanOptions& options);

// The lower-case extension of a file name or path, without the dot: "a/B.JPG" -> "jpg"; ""
// when there is none (".hidden" has none).
std::string ExtensionOf(const std::string& path);

// Splits "jpg,JPEG, png" into {"jpg", "jpeg", "png"}.
std::vector<std::string> ParseExtensions(const std::string& list);

}  // namespace mediadex::media

#endif  // MEDIADEX_MEDIA_SCAN_H_
