// The work queue of a PostgreSQL catalog: `index --enqueue` puts the files that need work in
// it, and any number of `mediadex worker` processes, on any machines, take leased batches from
// it. Every file's results land exactly once: a batch's results are written in the same
// transaction that checks the batch's lease token (docs/scaling.md).
//
//   auto queue = catalog::OpenWorkQueue("postgresql://db/mediadex", "mediadex worker pid 42 on gpu1");
//   auto me = (*queue)->RegisterWorker({"gpu1", 42, "cuda:0"});
//   auto lease = (*queue)->Claim(model_id, 64, {60, 3});   // FOR UPDATE SKIP LOCKED
//   ... a heartbeat thread (its own WorkQueue) calls Heartbeat(lease->token, 60) ...
//   auto outcome = (*queue)->Finish(lease->token, model_id, run_id, results, 3);
//   if (outcome->refused) ... the lease expired and another worker has the files: nothing was written
//
// Leases: a claim gives its batch a token from a sequence, an owner, an expiry (server clock)
// and counts an attempt; the heartbeat extends the expiry while the token still holds the items.
// An expired lease returns its items to the queue (the next claim takes them); an item claimed
// max_attempts times without a result, or whose result failed that many times, ends failed with
// its last error. Thread safety: one thread at a time per object (one connection each).
#ifndef MEDIADEX_CATALOG_WORK_QUEUE_H_
#define MEDIADEX_CATALOG_WORK_QUEUE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"

namespace mediadex::catalog {

struct WorkerInfo {
  std::string host;
  int64_t pid = 0;
  std::string device;  // "cpu", "cuda:0"
};

struct ClaimOptions {
  double lease_seconds = 60;
  int max_attempts = 3;
};

struct QueueItem {
  MediaRow media;
  int attempts = 0;  // claims so far, this one included
};

struct Lease {
  int64_t token = 0;  // 0: nothing was available
  std::vector<QueueItem> items;
};

struct FinishOutcome {
  int64_t done = 0;     // results written, items done
  int64_t failed = 0;   // failed results written as the item's final state (max attempts reached)
  int64_t retried = 0;  // failed results below max attempts: back in the queue, nothing written
  int64_t refused = 0;  // items no longer held by this token: their results were dropped
};

struct QueueLeaseRow {
  int64_t worker_id = 0;
  std::string worker;  // "host pid N"
  int64_t token = 0;
  int64_t items = 0;
  std::string expires;  // ISO 8601, UTC (server clock)
  bool expired = false;
};

struct QueueWorkerRow {
  int64_t id = 0;
  std::string host;
  int64_t pid = 0;
  std::string device;
  std::string started;         // ISO 8601, UTC
  std::string last_heartbeat;  // ISO 8601, UTC
  double seconds_since_heartbeat = 0;
  bool stopped = false;
  int64_t done = 0;
  int64_t failed = 0;
  double files_per_s = 0;  // done + failed over its life
};

struct QueueStatus {
  int64_t available = 0;  // waiting, or leased with the lease expired
  int64_t leased = 0;     // held by a live lease
  int64_t done = 0;
  int64_t failed = 0;
  std::vector<QueueLeaseRow> leases;
  std::vector<QueueWorkerRow> workers;
};

class WorkQueue {
 public:
  virtual ~WorkQueue() = default;

  // Puts these files (for this model) in the queue as available with no attempts; an item
  // already available or leased is left as it is, a done or failed one is queued again (its
  // file changed). Returns how many became available.
  virtual Result<int64_t> Enqueue(int64_t model_id, const std::vector<int64_t>& media_ids) = 0;

  // Registers this process as a worker (its id becomes the owner of its claims).
  virtual Result<int64_t> RegisterWorker(const WorkerInfo& worker) = 0;
  // Uses an id another object registered (the heartbeat thread's own connection).
  virtual void AttachWorker(int64_t worker_id) = 0;
  // Marks the worker stopped (a clean exit).
  virtual Status StopWorker() = 0;

  // Leases up to `limit` available items of this model (present files only). Items whose lease
  // expired max_attempts times are marked failed first. An empty lease (token 0): none now.
  virtual Result<Lease> Claim(int64_t model_id, int limit, const ClaimOptions& options) = 0;
  // Extends the lease to now + lease_seconds and records the worker's heartbeat. false: the
  // token holds no item any more (expired and taken): drop the batch.
  virtual Result<bool> Heartbeat(int64_t token, double lease_seconds) = 0;
  // Writes the results of the items this token still holds (WriteBatch: detections, analyses,
  // metadata) and marks them done or failed, in ONE transaction that first locks and checks the
  // token's items; results of items it no longer holds are refused (dropped, counted).
  virtual Result<FinishOutcome> Finish(int64_t token, int64_t model_id, int64_t run_id,
                                       const std::vector<MediaResult>& results, int max_attempts) = 0;
  // Returns the token's items to the queue unfinished (their attempt not counted).
  virtual Status Release(int64_t token) = 0;

  // Items of this model still available or leased (present files only).
  virtual Result<int64_t> Remaining(int64_t model_id) = 0;
  virtual Result<QueueStatus> Overview(int64_t model_id) = 0;  // 0 = every model
};

// The queue of the catalog `url`: Unsupported for an SQLite catalog ("... needs a PostgreSQL
// catalog"). The connection adds TCP keepalives and a TCP user timeout, so a cut network fails
// a call within seconds instead of hanging; application_name shows in pg_stat_activity.
Result<std::unique_ptr<WorkQueue>> OpenWorkQueue(const std::string& url, const std::string& application_name);

}  // namespace mediadex::catalog

#endif  // MEDIADEX_CATALOG_WORK_QUEUE_H_
