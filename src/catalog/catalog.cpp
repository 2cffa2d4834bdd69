#include "catalog/catalog.h"

#include "catalog/postgres/pg_connection.h"
#include "catalog/postgres/postgres_catalog.h"
#include "catalog/sqlite/sqlite_catalog.h"

namespace mediadex::catalog {

const char* AnalysisStatusName(AnalysisStatus status) {
  switch (status) {
    case AnalysisStatus::kDone: return "done";
    case AnalysisStatus::kFailed: return "failed";
    default: return "pending";
  }
}

// Defaults for backends without gallery reads (PostgreSQL, until it has them).
Result<MediaPage> Catalog::ListMedia(const MediaFilter&) { return Unsupported("this catalog backend cannot list media"); }
Result<MediaDetail> Catalog::GetMedia(int64_t, int64_t) { return Unsupported("this catalog backend cannot read media"); }
Result<std::vector<LabelCount>> Catalog::Labels(const std::string&, int, int64_t) {
  return Unsupported("this catalog backend cannot list labels");
}
Result<ErrorPage> Catalog::ErrorsPage(int64_t, int, const std::string&) {
  return Unsupported("this catalog backend cannot page errors");
}

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
