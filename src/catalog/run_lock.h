// One `mediadex index` run per SQLite catalog at a time. Two runs on one catalog would both
// find the same files pending and analyse each twice (SQLite serialises their commits, so the
// results stay right, but half the work is thrown away). The second run is refused at once,
// naming the first one's process id, rather than made to wait for a run that may take hours.
//
//   auto lock = catalog::RunLock::Acquire("/data/catalog.db");   // holds <catalog>.lock
//   if (!lock.ok()) return Fail(lock.status());   // Busy "...: another `mediadex index` run (pid
//   4242) ..."
//
// An flock(2) on "<catalog>.lock" (created beside the catalog, left there): the kernel drops it
// when the holder exits, even on kill -9, so a crashed run never blocks the next one.
// PostgreSQL catalogs need none: there workers share the work through leases.
#ifndef MEDIADEX_CATALOG_RUN_LOCK_H_
#define MEDIADEX_CATALOG_RUN_LOCK_H_

#include <string>

#include "core/status.h"

namespace mediadex::catalog {

class RunLock {
 public:
  // Busy when another process holds it; IOError when the lock file cannot be created.
  static Result<RunLock> Acquire(const std::string& catalog_path);
  static std::string LockPath(const std::string& catalog_path) { return catalog_path + ".lock"; }

  RunLock(RunLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RunLock& operator=(RunLock&&) = delete;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace mediadex::catalog

#endif  // MEDIADEX_CATALOG_RUN_LOCK_H_
