// The SQLite catalog's schema: an ordered list of migrations and the check that a file is ours.
// See docs/catalog-schema.md for the tables and for how to add migration N+1.
#ifndef MEDIADEX_CATALOG_SQLITE_SCHEMA_H_
#define MEDIADEX_CATALOG_SQLITE_SCHEMA_H_

#include <cstdint>

#include "catalog/sqlite/statement.h"
#include "core/status.h"

namespace mediadex::catalog::sqlite {

// PRAGMA application_id of a mediadex catalog ("MDX1"): tells our files from other SQLite files.
constexpr int64_t kApplicationId = 0x4D445831;

// The schema version this build writes (PRAGMA user_version after all migrations).
int64_t LatestSchemaVersion();

// The SQL of migration `version` (1-based), or nullptr: tests build older files with it.
const char* MigrationSql(int64_t version);

// Checks, without writing anything, that `conn` holds a mediadex catalog (or an empty database):
// Corrupt "<path>: not a mediadex catalog (...)" for foreign files, Unsupported for a newer
// schema. Sets *version to the file's current schema version (0 = empty, to be created).
Status CheckCatalog(Connection& conn, int64_t* version);

// Brings the schema to LatestSchemaVersion(), each step in its own IMMEDIATE transaction that
// re-reads user_version first (another process may have migrated meanwhile).
Status Migrate(Connection& conn);

}  // namespace mediadex::catalog::sqlite

#endif  // MEDIADEX_CATALOG_SQLITE_SCHEMA_H_
