#include "media/media_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace mediadex::media {
namespace {

const char* KindOf(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

}  // namespace

Result<MediaFile> MediaFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return NotFound(std::strerror(err));
    return IOError(std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return IOError(std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return IOError(std::strerror(EISDIR));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument(std::string("not a regular file (") + KindOf(st.st_mode) + ")");
  }
  return MediaFile(fd, static_cast<uint64_t>(st.st_size));
}

MediaFile::MediaFile(MediaFile&& other) noexcept : fd_(other.fd_), size_(other.size_) { other.fd_ = -1; }

MediaFile& MediaFile::operator=(MediaFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    size_ = other.size_;
    other.fd_ = -1;
  }
  return *this;
}

MediaFile::~MediaFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::vector<uint8_t>> MediaFile::ReadHead(size_t n) const { return Read(std::min<uint64_t>(n, size_)); }

Result<std::vector<uint8_t>> MediaFile::ReadAll() const {
  auto bytes = Read(size_);
  if (bytes.ok() && bytes->size() < size_) return IOError("file shrank while it was read");
  return bytes;
}

Result<std::vector<uint8_t>> MediaFile::Read(uint64_t n) const {
  std::vector<uint8_t> bytes;
  try {
    bytes.resize(n);
  } catch (const std::bad_alloc&) {
    return OutOfMemory("cannot allocate " + std::to_string(n) + " bytes to read the file");
  }
  uint64_t done = 0;
  while (done < n) {
    const ssize_t got = ::pread(fd_, bytes.data() + done, n - done, static_cast<off_t>(done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return IOError(std::strerror(errno));
    }
    if (got == 0) break;  // end of file: it shrank
    done += static_cast<uint64_t>(got);
  }
  bytes.resize(done);
  return bytes;
}

}  // namespace mediadex::media
