// The run lock of a PostgreSQL catalog (catalog/run_lock.h): a session-level
// pg_try_advisory_lock(kRunLockClass, SchemaKey) on a connection of its own, held for the run.
// The server drops it when that connection ends, so a crashed or killed run never blocks the
// next. A refused run is told who holds it: the holder's application_name ("mediadex index pid
// N on HOST"), address and start time from pg_locks and pg_stat_activity.
#ifndef MEDIADEX_CATALOG_POSTGRES_PG_RUN_LOCK_H_
#define MEDIADEX_CATALOG_POSTGRES_PG_RUN_LOCK_H_

#include <memory>
#include <string>

#include "catalog/run_lock.h"
#include "core/status.h"

namespace mediadex::catalog::postgres {

// Busy naming the holder when another session holds the lock; IOError when the server cannot
// be reached.
Result<std::unique_ptr<RunLock::Holder>> AcquireRunLock(const std::string& url);

}  // namespace mediadex::catalog::postgres

#endif  // MEDIADEX_CATALOG_POSTGRES_PG_RUN_LOCK_H_
