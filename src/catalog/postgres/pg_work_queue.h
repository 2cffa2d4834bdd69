// The work queue (catalog/work_queue.h) on a PostgreSQL catalog: the tables of migration
// "work queue" in pg_schema.cpp, claims by `SELECT ... FOR UPDATE SKIP LOCKED` inside an
// `UPDATE ... RETURNING`, and a finish that locks the lease's rows, checks the token and writes
// the results with WriteBatch (pg_batch.h) in the same transaction.
#ifndef MEDIADEX_CATALOG_POSTGRES_PG_WORK_QUEUE_H_
#define MEDIADEX_CATALOG_POSTGRES_PG_WORK_QUEUE_H_

#include <memory>
#include <string>

#include "catalog/postgres/pg_batch.h"
#include "catalog/postgres/pg_connection.h"
#include "catalog/work_queue.h"

namespace mediadex::catalog::postgres {

// `url` with the options that make a cut network fail a call in seconds rather than hang for
// TCP's retransmission time (minutes): connect_timeout, keepalives, tcp_user_timeout.
std::string WithNetworkTimeouts(const std::string& url);

class PgWorkQueue final : public WorkQueue {
 public:
  // Connects (WithNetworkTimeouts) and migrates the catalog as OpenCatalog does.
  static Result<std::unique_ptr<PgWorkQueue>> Open(const std::string& url, const std::string& application_name);

  Result<int64_t> Enqueue(int64_t model_id, const std::vector<int64_t>& media_ids) override;
  Result<int64_t> RegisterWorker(const WorkerInfo& worker) override;
  void AttachWorker(int64_t worker_id) override { worker_id_ = worker_id; }
  Status StopWorker() override;
  Result<Lease> Claim(int64_t model_id, int limit, const ClaimOptions& options) override;
  Result<bool> Heartbeat(int64_t token, double lease_seconds) override;
  Result<FinishOutcome> Finish(int64_t token, int64_t model_id, int64_t run_id, const std::vector<MediaResult>& results,
                               int max_attempts) override;
  Status Release(int64_t token) override;
  Result<int64_t> Remaining(int64_t model_id) override;
  Result<QueueStatus> Overview(int64_t model_id) override;

  // How Finish writes detections (default COPY; multi-row INSERT kept for comparison,
  // bench/queue_bench). The connection, for benchmarks and tests (e.g. SET synchronous_commit;
  // a reconnect after a lost connection starts a fresh session without it).
  void set_detection_insert(DetectionInsert mode) { insert_ = mode; }
  Connection& connection() { return *conn_; }

 private:
  PgWorkQueue(std::unique_ptr<Connection> conn, std::string url, std::string app)
      : conn_(std::move(conn)), url_(std::move(url)), app_(std::move(app)) {}
  // Connects again when the connection is gone (the network came back); IOError while it cannot.
  Status EnsureConnected();

  std::unique_ptr<Connection> conn_;
  const std::string url_, app_;
  int64_t worker_id_ = 0;
  DetectionInsert insert_ = DetectionInsert::kCopy;
};

}  // namespace mediadex::catalog::postgres

#endif  // MEDIADEX_CATALOG_POSTGRES_PG_WORK_QUEUE_H_
