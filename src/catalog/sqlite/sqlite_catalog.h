// The SQLite backend of catalog.h: one file, WAL mode, versioned migrations (schema.cpp).
// Callers use catalog::OpenCatalog(); this header is for tests and the timing tool.
#ifndef MEDIADEX_CATALOG_SQLITE_SQLITE_CATALOG_H_
#define MEDIADEX_CATALOG_SQLITE_SQLITE_CATALOG_H_

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace mediadex::catalog::sqlite {

class Connection;

// Thread safety: one thread at a time per object (as catalog.h says); other connections, in this
// process or others, may read while this one writes (WAL), and writers wait up to
// kBusyTimeoutMs for each other before a Busy error.
class SqliteCatalog final : public Catalog {
 public:
  static constexpr int kBusyTimeoutMs = 5000;
  static constexpr int kCacheKiB = 32 * 1024;  // page cache per connection, at most

  // Opens or creates `path`. Never writes to a file that is not a mediadex catalog.
  static Result<std::unique_ptr<SqliteCatalog>> Open(const std::string& path);
  ~SqliteCatalog() override;

  Result<int64_t> RegisterModel(const ModelKey& model) override;
  Result<int64_t> BeginRun(const RunInfo& run) override;
  Status FinishRun(int64_t run_id, const RunCounts& counts) override;
  Result<std::vector<MediaRow>> LoadFileIndex() override;
  Result<std::vector<MediaRow>> FindGoneByHash(const std::string& content_hash) override;
  Status ApplyScan(const ScanChanges& changes) override;
  Result<std::vector<MediaRow>> PendingFor(int64_t model_id, int64_t limit) override;
  Status CommitBatch(int64_t model_id, int64_t run_id, const std::vector<MediaResult>& results) override;
  Result<std::vector<SearchHit>> Search(const SearchQuery& query) override;
  Result<StatusSummary> Summary(int64_t model_id) override;
  Result<std::vector<RunRow>> RecentRuns(int limit) override;
  Result<std::vector<ErrorRow>> Errors(int64_t model_id, int limit) override;
  Result<std::vector<ExportRow>> ExportAll(int64_t model_id) override;
  // gallery.cpp
  Result<MediaPage> ListMedia(const MediaFilter& filter) override;
  Result<MediaDetail> GetMedia(int64_t id, int64_t model_id) override;
  Result<std::vector<LabelCount>> Labels(const std::string& prefix, int limit, int64_t model_id) override;
  Result<ErrorPage> ErrorsPage(int64_t model_id, int limit, const std::string& cursor) override;

 private:
  explicit SqliteCatalog(std::unique_ptr<Connection> conn);

  std::unique_ptr<Connection> conn_;
};

// ListMedia reads a filter matching fewer files than this whole (default 5000); 0 = never.
void SetGatherMaxForTests(int64_t files);

// 0 = the model of the latest run, else the latest registered model, else 0 (shared with gallery.cpp).
Result<int64_t> ResolveModel(Connection& conn, int64_t model_id);

}  // namespace mediadex::catalog::sqlite

#endif  // MEDIADEX_CATALOG_SQLITE_SQLITE_CATALOG_H_
