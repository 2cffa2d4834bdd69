#include "catalog/catalog.h"

#include "catalog/postgres/pg_connection.h"
#include "catalog/postgres/postgres_catalog.h"
#include "catalog/sqlite/sqlite_catalog.h"

namespace mediadex::catalog {

Result<std::unique_ptr<Catalog>> OpenCatalog(const std::string& path) {
  if (path.empty()) return InvalidArgument("catalog path is empty");
  if (postgres::IsPostgresUrl(path)) {
    auto opened = postgres::PostgresCatalog::Open(path);
    if (!opened.ok()) return opened.status();
    return std::unique_ptr<Catalog>(std::move(opened).value());
  }
  std::string file = path.rfind("sqlite:", 0) == 0 ? path.substr(7) : path;
  auto opened = sqlite::SqliteCatalog::Open(file);
  if (!opened.ok()) return opened.status();
  return std::unique_ptr<Catalog>(std::move(opened).value());
}

}  // namespace mediadex::catalog
