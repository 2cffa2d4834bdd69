// The PostgreSQL backend of catalog.h: the same tables, migrations and queries as sqlite/, over
// libpq (pg_connection.h). Callers use catalog::OpenCatalog("postgresql://..."); this header is
// for tests and the benchmark.
#ifndef MEDIADEX_CATALOG_POSTGRES_POSTGRES_CATALOG_H_
#define MEDIADEX_CATALOG_POSTGRES_POSTGRES_CATALOG_H_

#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/postgres/pg_batch.h"
#include "catalog/postgres/pg_connection.h"

namespace mediadex::catalog::postgres {

// Thread safety: one thread at a time per object (as catalog.h says). Any number of processes
// may use one database at once: reads see committed batches only, writes are transactions.
class PostgresCatalog final : public Catalog {
 public:
  // Connects to `url`, checks the database holds a mediadex catalog (or nothing of ours) and
  // migrates it. IOError when the server cannot be reached; messages never show a password.
  static Result<std::unique_ptr<PostgresCatalog>> Open(const std::string& url);
  ~PostgresCatalog() override;

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
  // The gallery reads (pg_gallery.cpp): SQLite's semantics, queries over detections.
  Result<MediaPage> ListMedia(const MediaFilter& filter) override;
  Result<MediaDetail> GetMedia(int64_t id, int64_t model_id) override;
  Result<std::vector<LabelCount>> Labels(const std::string& prefix, int limit, int64_t model_id) override;
  Result<ErrorPage> ErrorsPage(int64_t model_id, int limit, const std::string& cursor) override;

  // How CommitBatch inserts detections (COPY by default; multi-row INSERT for comparison).
  void set_detection_insert(DetectionInsert mode) { insert_ = mode; }
  // The connection, for the work queue and for tests (e.g. SET synchronous_commit).
  Connection& connection() { return *conn_; }

 private:
  explicit PostgresCatalog(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

  std::unique_ptr<Connection> conn_;
  DetectionInsert insert_ = DetectionInsert::kCopy;
};

// Tests: how many candidates a score-ordered page walks before it gathers (0 = the default).
void SetScoreWalkMaxForTests(int candidates);

}  // namespace mediadex::catalog::postgres

#endif  // MEDIADEX_CATALOG_POSTGRES_POSTGRES_CATALOG_H_
