// Shared by the PostgreSQL backend's files (postgres_catalog.cpp, pg_gallery.cpp): running a
// call as one transaction (retried on serialization failures) and resolving "model 0".
#ifndef MEDIADEX_CATALOG_POSTGRES_PG_READ_H_
#define MEDIADEX_CATALOG_POSTGRES_PG_READ_H_

#include <cstdint>
#include <functional>

#include "catalog/postgres/pg_connection.h"
#include "core/status.h"

namespace mediadex::catalog::postgres {

// Write transactions: READ COMMITTED, so concurrent writers (workers) of different files do not
// fail each other. Multi-query reads: one snapshot, as SQLite's deferred BEGIN gives.
inline constexpr const char* kWrite = "BEGIN";
inline constexpr const char* kRead = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// Runs `body` between `begin` and COMMIT; any error (or exception) rolls all of it back. A
// deadlock or serialization failure (two writers on the same rows, e.g. two `--enqueue` scans)
// rolls back and runs the whole transaction again, up to 3 times, as SQLite's busy timeout
// waits; after that it is Busy.
Status InTransaction(Connection& conn, const char* begin, const std::function<Status()>& body);

// 0 = the model of the latest run, else the latest registered model, else 0 (nothing analysed).
Result<int64_t> ResolveModel(Connection& conn, int64_t model_id);

}  // namespace mediadex::catalog::postgres

#endif  // MEDIADEX_CATALOG_POSTGRES_PG_READ_H_
