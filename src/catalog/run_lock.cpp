#include "catalog/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "catalog/postgres/pg_connection.h"
#include "catalog/postgres/pg_run_lock.h"

namespace mediadex::catalog {

Result<RunLock> RunLock::Acquire(const std::string& catalog_path) {
  if (postgres::IsPostgresUrl(catalog_path)) {
    auto held = postgres::AcquireRunLock(catalog_path);
    if (!held.ok()) return held.status();
    return RunLock(std::move(held).value());
  }
  const std::string path = LockPath(catalog_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IOError(path + ": cannot create the catalog's run lock: " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    std::string holder;
    char buf[32] = {};
    const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; ++i) holder += buf[i];
    ::close(fd);
    if (err != EWOULDBLOCK) return IOError(path + ": cannot lock: " + std::strerror(err));
    return Status(StatusCode::kBusy, catalog_path + ": another `mediadex index` run" +
                                         (holder.empty() ? std::string() : " (pid " + holder + ")") +
                                         " is using this catalog; wait for it to finish, or give this run "
                                         "another --catalog (two runs would analyse every file twice)");
  }
  // The holder's pid, for the message above; the lock itself is the flock, not this text.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // Not worth failing the run for: the lock is held all the same.
  }
  return RunLock(fd);
}

RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);  // closing drops the flock
}

}  // namespace mediadex::catalog
