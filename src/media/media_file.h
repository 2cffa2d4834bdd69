// Opening a media file without trusting what the name promises: only regular files are read
// (a FIFO would block forever, /dev/zero never ends, a directory is no photo), and never more
// than the size the file had when it was opened.
//
//   auto file = media::MediaFile::Open(path);          // "not a regular file (a FIFO)"
//   if (file.ok() && file->size() <= cap) auto bytes = file->ReadAll();
#ifndef MEDIADEX_MEDIA_MEDIA_FILE_H_
#define MEDIADEX_MEDIA_MEDIA_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace mediadex::media {

class MediaFile {
 public:
  // Opens without blocking (O_NONBLOCK: a FIFO with no writer would hang in open) and checks
  // what the path leads to after symlinks. Errors (messages without the path; callers name it):
  // NotFound, IOError "Is a directory", InvalidArgument "not a regular file (a FIFO)" (also
  // character/block devices and sockets), IOError for the rest.
  static Result<MediaFile> Open(const std::string& path);

  MediaFile(MediaFile&& other) noexcept;
  MediaFile& operator=(MediaFile&& other) noexcept;
  MediaFile(const MediaFile&) = delete;
  MediaFile& operator=(const MediaFile&) = delete;
  ~MediaFile();

  uint64_t size() const { return size_; }  // as it was at Open

  // The first min(n, size()) bytes: enough to sniff the format before reading everything.
  Result<std::vector<uint8_t>> ReadHead(size_t n) const;
  // Exactly size() bytes; a file that shrank meanwhile is an IOError, one that grew is cut.
  Result<std::vector<uint8_t>> ReadAll() const;

 private:
  MediaFile(int fd, uint64_t size) : fd_(fd), size_(size) {}
  Result<std::vector<uint8_t>> Read(uint64_t n) const;

  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace mediadex::media

#endif  // MEDIADEX_MEDIA_MEDIA_FILE_H_
