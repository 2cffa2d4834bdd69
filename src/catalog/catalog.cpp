#include "catalog/catalog.h"

#include "catalog/sqlite/sqlite_catalog.h"

namespace mediadex::catalog {

Result<std::unique_ptr<Catalog>> OpenCatalog(const std::string& path) {
  if (path.empty()) return InvalidArgument("catalog path is empty");
  if (path.rfind("postgres://", 0) == 0 || path.rfind("postgresql://", 0) == 0) {
    return Unsupported(path + ": this build has no PostgreSQL catalog backend");
  }
  std::string file = path.rfind("sqlite:", 0) == 0 ? path.substr(7) : path;
  auto opened = sqlite::SqliteCatalog::Open(file);
  if (!opened.ok()) return opened.status();
  return std::unique_ptr<Catalog>(std::move(opened).value());
}

}  // namespace mediadex::catalog
