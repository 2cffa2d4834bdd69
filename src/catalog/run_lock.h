// One `mediadex index` run per catalog at a time. Two runs on one catalog would both
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
// On a PostgreSQL catalog (a postgres:// or postgresql:// URL) it is a session advisory lock
// instead (postgres/pg_run_lock.h), dropped by the server when the connection ends; workers
// there share the work through leases and take no run lock.
#ifndef MEDIADEX_CATALOG_RUN_LOCK_H_
#define MEDIADEX_CATALOG_RUN_LOCK_H_

#include <memory>
#include <string>

#include "core/status.h"

namespace mediadex::catalog {

class RunLock {
 public:
  // What holds a lock other than the flock (the PostgreSQL session); released when destroyed.
  struct Holder {
    virtual ~Holder() = default;
  };

  // Busy when another process holds it; IOError when the lock file cannot be created (or the
  // PostgreSQL server cannot be reached). `catalog` is the file's path or a PostgreSQL URL.
  static Result<RunLock> Acquire(const std::string& catalog);
  static std::string LockPath(const std::string& catalog_path) { return catalog_path + ".lock"; }

  RunLock(RunLock&& other) noexcept : fd_(other.fd_), holder_(std::move(other.holder_)) { other.fd_ = -1; }
  RunLock& operator=(RunLock&&) = delete;
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;
  ~RunLock();

 private:
  explicit RunLock(int fd) : fd_(fd) {}
  explicit RunLock(std::unique_ptr<Holder> holder) : holder_(std::move(holder)) {}
  int fd_ = -1;
  std::unique_ptr<Holder> holder_;
};

}  // namespace mediadex::catalog

#endif  // MEDIADEX_CATALOG_RUN_LOCK_H_
