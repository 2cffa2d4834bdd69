// The PostgreSQL catalog's schema: an ordered list of migrations (the same tables and columns as
// sqlite/schema.cpp, in PostgreSQL's types) and the check that a database is ours.
// See docs/catalog-schema.md ("PostgreSQL") for the types chosen and how to add migration N+1.
#ifndef MEDIADEX_CATALOG_POSTGRES_PG_SCHEMA_H_
#define MEDIADEX_CATALOG_POSTGRES_PG_SCHEMA_H_

#include <cstdint>
#include <string>

#include "catalog/postgres/pg_connection.h"
#include "core/status.h"

namespace mediadex::catalog::postgres {

// Advisory lock classes (the first int of the two-int key); the second is SchemaKey().
constexpr int32_t kMigrationLockClass = 0x4D44584D;  // "MDXM": migrations, one process at a time
constexpr int32_t kRunLockClass = 0x4D445852;        // "MDXR": one `mediadex index` run per catalog

// The schema version this build writes (mediadex_schema.version after all migrations).
int64_t LatestSchemaVersion();

// A key for the catalog's schema (current_schema(), so catalogs in different schemas of one
// database do not share locks): 31 bits of a hash of its name.
Result<int32_t> SchemaKey(Connection& conn);

// Checks, without writing, that the database (its current schema) holds a mediadex catalog or
// none of our tables: Corrupt "<url>: not a mediadex catalog (...)" when our table names exist
// without mediadex_schema, Unsupported for a newer schema. *version = 0 when empty.
Status CheckCatalog(Connection& conn, int64_t* version);

// Brings the schema to LatestSchemaVersion(). Each step is one transaction that first takes
// pg_advisory_xact_lock(kMigrationLockClass, SchemaKey) and re-reads the version, so processes
// starting at once against an empty database apply each migration exactly once.
Status Migrate(Connection& conn);

}  // namespace mediadex::catalog::postgres

#endif  // MEDIADEX_CATALOG_POSTGRES_PG_SCHEMA_H_
