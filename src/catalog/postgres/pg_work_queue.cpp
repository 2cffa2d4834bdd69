#include "catalog/postgres/pg_work_queue.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "catalog/postgres/pg_batch.h"
#include "catalog/postgres/pg_schema.h"

namespace mediadex::catalog::postgres {
namespace {

constexpr const char* kIso = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

std::string IdArray(const std::vector<int64_t>& ids) {
  std::string out = "{";
  for (int64_t id : ids) out += (out.size() > 1 ? "," : "") + std::to_string(id);
  return out + "}";
}

// Runs `body` in one READ COMMITTED transaction; a deadlock or serialization failure runs it
// again (up to 3 times), as PostgresCatalog's writes do.
Status InTransaction(Connection& conn, const std::function<Status()>& body) {
  Status status;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    Transaction tx(conn);
    MDX_RETURN_IF_ERROR(tx.Begin());
    status = body();
    if (status.ok()) status = tx.Commit();
    if (status.ok() || !IsRetryableSqlState(conn.last_sqlstate())) return status;
  }
  return status;
}

}  // namespace

std::string WithNetworkTimeouts(const std::string& url) {
  // Seconds, not TCP's minutes: a heartbeat or finish on a cut link fails and is retried.
  const char* options =
      "connect_timeout=5&keepalives=1&keepalives_idle=5&keepalives_interval=2&keepalives_count=3&"
      "tcp_user_timeout=10000";
  return url + (url.find('?') == std::string::npos ? "?" : "&") + options;
}

Result<std::unique_ptr<PgWorkQueue>> PgWorkQueue::Open(const std::string& url, const std::string& application_name) {
  const std::string full = WithNetworkTimeouts(url);
  auto conn = Connection::Connect(full, application_name);
  if (!conn.ok()) return conn.status();
  int64_t version = 0;
  MDX_RETURN_IF_ERROR(CheckCatalog(**conn, &version));
  if (version < LatestSchemaVersion()) MDX_RETURN_IF_ERROR(Migrate(**conn));
  return std::unique_ptr<PgWorkQueue>(new PgWorkQueue(std::move(conn).value(), full, application_name));
}

Status PgWorkQueue::EnsureConnected() {
  if (conn_->alive()) return Status::Ok();
  auto conn = Connection::Connect(url_, app_);
  if (!conn.ok()) return conn.status();
  conn_ = std::move(conn).value();
  return Status::Ok();
}

Result<int64_t> PgWorkQueue::Enqueue(int64_t model_id, const std::vector<int64_t>& media_ids) {
  MDX_RETURN_IF_ERROR(EnsureConnected());
  int64_t queued = 0;
  constexpr size_t kPerStatement = 10000;
  for (size_t start = 0; start < media_ids.size(); start += kPerStatement) {
    const std::vector<int64_t> chunk(
        media_ids.begin() + static_cast<std::ptrdiff_t>(start),
        media_ids.begin() + static_cast<std::ptrdiff_t>(std::min(media_ids.size(), start + kPerStatement)));
    // A done or failed item comes back only when its result is no longer current (the file
    // changed): an item a worker finished between our PendingFor and now stays done.
    auto r = conn_->Query(
        "INSERT INTO queue (media_id, model_id) SELECT unnest($2::bigint[]), $1 "
        "ON CONFLICT (media_id, model_id) DO UPDATE SET state = 'available', attempts = 0, last_error = '', "
        "owner = NULL, lease_token = NULL, lease_expires = NULL, enqueued_at = clock_timestamp(), finished_at = NULL "
        "WHERE queue.state IN ('done', 'failed') AND NOT EXISTS (SELECT 1 FROM analyses a JOIN media m ON "
        "m.id = a.media_id WHERE a.media_id = queue.media_id AND a.model_id = queue.model_id AND "
        "a.status IN ('done', 'failed') AND a.size = m.size AND a.mtime_ns = m.mtime_ns)",
        {Param::Int(model_id), Param::Text(IdArray(chunk))});
    if (!r.ok()) return r.status();
    queued += r->affected();
  }
  return queued;
}

Result<int64_t> PgWorkQueue::RegisterWorker(const WorkerInfo& worker) {
  MDX_RETURN_IF_ERROR(EnsureConnected());
  auto id = conn_->QueryInt("INSERT INTO queue_workers (host, pid, device) VALUES ($1, $2, $3) RETURNING id",
                            {Param::Text(worker.host), Param::Int(worker.pid), Param::Text(worker.device)});
  if (!id.ok()) return id.status();
  worker_id_ = *id;
  return id;
}

Status PgWorkQueue::StopWorker() {
  if (worker_id_ == 0) return Status::Ok();
  MDX_RETURN_IF_ERROR(EnsureConnected());
  return conn_
      ->Query(
          "UPDATE queue_workers SET stopped_at = clock_timestamp(), last_heartbeat = clock_timestamp() "
          "WHERE id = $1",
          {Param::Int(worker_id_)})
      .status();
}

Result<Lease> PgWorkQueue::Claim(int64_t model_id, int limit, const ClaimOptions& options) {
  MDX_RETURN_IF_ERROR(EnsureConnected());
  Lease lease;
  Status status = InTransaction(*conn_, [&]() -> Status {
    lease = Lease();
    // Items whose lease expired max_attempts times (their worker died or hung on them each
    // time: a file that crashes the decoder) end failed, so one poison file cannot stall the queue.
    auto dead = conn_->Query(
        "WITH dead AS (SELECT media_id FROM queue WHERE model_id = $1 AND state = 'leased' AND "
        "lease_expires < clock_timestamp() AND attempts >= $2 FOR UPDATE SKIP LOCKED) "
        "UPDATE queue q SET state = 'failed', owner = NULL, lease_token = NULL, lease_expires = NULL, "
        "finished_at = clock_timestamp() FROM dead WHERE q.model_id = $1 AND q.media_id = dead.media_id "
        "RETURNING q.media_id, q.attempts, q.last_error",
        {Param::Int(model_id), Param::Int(options.max_attempts)});
    if (!dead.ok()) return dead.status();
    if (dead->rows() > 0) {
      std::vector<MediaResult> failed(static_cast<size_t>(dead->rows()));
      for (int i = 0; i < dead->rows(); ++i) {
        failed[i].media_id = dead->Int(i, 0);
        failed[i].ok = false;
        const std::string last = dead->Bytes(i, 2);
        failed[i].error = "its lease expired on all " + dead->Text(i, 1) +
                          " attempts (the worker died, hung or lost the network each time)" +
                          (last.empty() ? "" : "; last error: " + last);
      }
      MDX_RETURN_IF_ERROR(WriteBatch(*conn_, model_id, 0, failed));
    }
    auto token = conn_->QueryInt("SELECT nextval('queue_lease_tokens')");
    if (!token.ok()) return token.status();
    auto rows = conn_->Query(
        "WITH picked AS (SELECT q.media_id FROM queue q JOIN media m ON m.id = q.media_id AND m.gone = 0 "
        "WHERE q.model_id = $1 AND (q.state = 'available' OR (q.state = 'leased' AND q.lease_expires < "
        "clock_timestamp())) ORDER BY q.media_id LIMIT $2 FOR UPDATE OF q SKIP LOCKED) "
        "UPDATE queue q SET state = 'leased', owner = $3, lease_token = $4, attempts = q.attempts + 1, "
        "lease_expires = clock_timestamp() + make_interval(secs => $5) "
        "FROM picked, media m WHERE q.model_id = $1 AND q.media_id = picked.media_id AND m.id = q.media_id "
        "RETURNING q.media_id, q.attempts, m.path, m.size, m.mtime_ns, m.content_hash, m.kind",
        {Param::Int(model_id), Param::Int(limit), worker_id_ > 0 ? Param::Int(worker_id_) : Param::Null(),
         Param::Int(*token), Param::Real(options.lease_seconds)});
    if (!rows.ok()) return rows.status();
    if (rows->rows() == 0) return Status::Ok();
    lease.token = *token;
    for (int i = 0; i < rows->rows(); ++i) {
      QueueItem item;
      item.media.id = rows->Int(i, 0);
      item.attempts = static_cast<int>(rows->Int(i, 1));
      item.media.path = rows->Bytes(i, 2);
      item.media.size = static_cast<uint64_t>(rows->Int(i, 3));
      item.media.mtime_ns = rows->Int(i, 4);
      item.media.content_hash = rows->Text(i, 5);
      item.media.kind = rows->Text(i, 6) == "video" ? MediaKind::kVideo : MediaKind::kImage;
      lease.items.push_back(std::move(item));
    }
    std::sort(lease.items.begin(), lease.items.end(),
              [](const QueueItem& a, const QueueItem& b) { return a.media.path < b.media.path; });
    return Status::Ok();
  });
  if (!status.ok()) return status.WithContext("claim");
  return lease;
}

Result<bool> PgWorkQueue::Heartbeat(int64_t token, double lease_seconds) {
  MDX_RETURN_IF_ERROR(EnsureConnected());
  if (worker_id_ > 0) {
    MDX_RETURN_IF_ERROR(conn_
                            ->Query("UPDATE queue_workers SET last_heartbeat = clock_timestamp() WHERE id = $1",
                                    {Param::Int(worker_id_)})
                            .status());
  }
  if (token == 0) return true;
  // A lease that expired but that no one took yet is still ours: the token is the fence, not
  // the clock, so extending it is safe.
  auto r = conn_->Query(
      "UPDATE queue SET lease_expires = clock_timestamp() + make_interval(secs => $2) "
      "WHERE lease_token = $1 AND state = 'leased'",
      {Param::Int(token), Param::Real(lease_seconds)});
  if (!r.ok()) return r.status();
  return r->affected() > 0;
}

Result<FinishOutcome> PgWorkQueue::Finish(int64_t token, int64_t model_id, int64_t run_id,
                                          const std::vector<MediaResult>& results, int max_attempts) {
  MDX_RETURN_IF_ERROR(EnsureConnected());
  FinishOutcome outcome;
  Status status = InTransaction(*conn_, [&]() -> Status {
    outcome = FinishOutcome();
    // The fence: lock the rows this token still holds. A claimer that took them over has
    // replaced the token (its transaction committed before our lock was granted), so they are
    // not among these; one that is taking them now waits for our COMMIT and then skips them.
    auto held = conn_->Query(
        "SELECT media_id, attempts FROM queue WHERE lease_token = $1 AND model_id = $2 AND state = 'leased' "
        "FOR UPDATE",
        {Param::Int(token), Param::Int(model_id)});
    if (!held.ok()) return held.status();
    std::unordered_map<int64_t, int> attempts;
    for (int i = 0; i < held->rows(); ++i) attempts[held->Int(i, 0)] = static_cast<int>(held->Int(i, 1));
    std::vector<MediaResult> write;
    std::vector<int64_t> done_ids, failed_ids;
    std::vector<const MediaResult*> retry;
    for (const MediaResult& r : results) {
      auto it = attempts.find(r.media_id);
      if (it == attempts.end()) {
        ++outcome.refused;
        continue;
      }
      if (r.ok || it->second >= max_attempts) {
        write.push_back(r);
        (r.ok ? done_ids : failed_ids).push_back(r.media_id);
      } else {
        retry.push_back(&r);
      }
      attempts.erase(it);  // one result per item; the rest of the token's items go back
    }
    MDX_RETURN_IF_ERROR(WriteBatch(*conn_, model_id, run_id, write, insert_));
    for (const auto* ids : {&done_ids, &failed_ids}) {
      if (ids->empty()) continue;
      MDX_RETURN_IF_ERROR(conn_
                              ->Query(std::string("UPDATE queue SET state = '") +
                                          (ids == &done_ids ? "done" : "failed") +
                                          "', owner = NULL, lease_token = NULL, lease_expires = NULL, "
                                          "finished_at = clock_timestamp() WHERE model_id = $1 AND "
                                          "media_id = ANY($2::bigint[])",
                                      {Param::Int(model_id), Param::Text(IdArray(*ids))})
                              .status());
    }
    for (const MediaResult* r : retry) {
      MDX_RETURN_IF_ERROR(conn_
                              ->Query("UPDATE queue SET state = 'available', owner = NULL, lease_token = NULL, "
                                      "lease_expires = NULL, last_error = $3 WHERE model_id = $1 AND media_id = $2",
                                      {Param::Int(model_id), Param::Int(r->media_id), Param::Bytes(r->error)})
                              .status());
    }
    if (!attempts.empty()) {  // held without a result (the batch was cut short): back, uncounted
      std::vector<int64_t> back;
      for (const auto& [id, n] : attempts) back.push_back(id);
      MDX_RETURN_IF_ERROR(conn_
                              ->Query("UPDATE queue SET state = 'available', owner = NULL, lease_token = NULL, "
                                      "lease_expires = NULL, attempts = GREATEST(0, attempts - 1) "
                                      "WHERE model_id = $1 AND media_id = ANY($2::bigint[])",
                                      {Param::Int(model_id), Param::Text(IdArray(back))})
                              .status());
    }
    outcome.done = static_cast<int64_t>(done_ids.size());
    outcome.failed = static_cast<int64_t>(failed_ids.size());
    outcome.retried = static_cast<int64_t>(retry.size());
    if (worker_id_ > 0) {
      MDX_RETURN_IF_ERROR(conn_
                              ->Query("UPDATE queue_workers SET done = done + $2, failed = failed + $3, "
                                      "last_heartbeat = clock_timestamp() WHERE id = $1",
                                      {Param::Int(worker_id_), Param::Int(outcome.done), Param::Int(outcome.failed)})
                              .status());
    }
    return Status::Ok();
  });
  if (!status.ok()) return status.WithContext("finish of lease " + std::to_string(token));
  return outcome;
}

Status PgWorkQueue::Release(int64_t token) {
  MDX_RETURN_IF_ERROR(EnsureConnected());
  return conn_
      ->Query(
          "UPDATE queue SET state = 'available', owner = NULL, lease_token = NULL, lease_expires = NULL, "
          "attempts = GREATEST(0, attempts - 1) WHERE lease_token = $1 AND state = 'leased'",
          {Param::Int(token)})
      .status();
}

Result<int64_t> PgWorkQueue::Remaining(int64_t model_id) {
  MDX_RETURN_IF_ERROR(EnsureConnected());
  return conn_->QueryInt(
      "SELECT COUNT(*) FROM queue q JOIN media m ON m.id = q.media_id AND m.gone = 0 "
      "WHERE q.model_id = $1 AND q.state IN ('available', 'leased')",
      {Param::Int(model_id)});
}

Result<QueueStatus> PgWorkQueue::Overview(int64_t model_id) {
  MDX_RETURN_IF_ERROR(EnsureConnected());
  QueueStatus out;
  Status status = InTransaction(*conn_, [&]() -> Status {
    const std::vector<Param> model = {Param::Int(model_id)};
    auto counts = conn_->Query(
        "SELECT COUNT(*) FILTER (WHERE q.state = 'available' OR (q.state = 'leased' AND q.lease_expires < "
        "clock_timestamp())), COUNT(*) FILTER (WHERE q.state = 'leased' AND q.lease_expires >= clock_timestamp()), "
        "COUNT(*) FILTER (WHERE q.state = 'done'), COUNT(*) FILTER (WHERE q.state = 'failed') "
        "FROM queue q JOIN media m ON m.id = q.media_id AND m.gone = 0 WHERE $1 = 0 OR q.model_id = $1",
        model);
    if (!counts.ok()) return counts.status();
    out.available = counts->Int(0, 0);
    out.leased = counts->Int(0, 1);
    out.done = counts->Int(0, 2);
    out.failed = counts->Int(0, 3);
    auto leases = conn_->Query(std::string("SELECT COALESCE(q.owner, 0), COALESCE(w.host || ' pid ' || w.pid, '?'), "
                                           "q.lease_token, COUNT(*), to_char(MAX(q.lease_expires) AT TIME ZONE "
                                           "'UTC', ") +
                                   kIso +
                                   "), MAX(q.lease_expires) < clock_timestamp() FROM queue q LEFT JOIN "
                                   "queue_workers w ON w.id = q.owner WHERE q.state = 'leased' AND ($1 = 0 OR "
                                   "q.model_id = $1) GROUP BY 1, 2, 3 ORDER BY 3",
                               model);
    if (!leases.ok()) return leases.status();
    for (int i = 0; i < leases->rows(); ++i) {
      out.leases.push_back({leases->Int(i, 0), leases->Text(i, 1), leases->Int(i, 2), leases->Int(i, 3),
                            leases->Text(i, 4), leases->Text(i, 5) == "t"});
    }
    auto workers =
        conn_->Query(std::string("SELECT id, host, pid, device, to_char(started_at AT TIME ZONE 'UTC', ") + kIso +
                     "), to_char(last_heartbeat AT TIME ZONE 'UTC', " + kIso +
                     "), EXTRACT(EPOCH FROM clock_timestamp() - last_heartbeat), stopped_at IS NOT NULL, done, failed, "
                     "(done + failed) / GREATEST(1, EXTRACT(EPOCH FROM last_heartbeat - started_at)) "
                     "FROM (SELECT * FROM queue_workers ORDER BY id DESC LIMIT 50) w ORDER BY id");
    if (!workers.ok()) return workers.status();
    for (int i = 0; i < workers->rows(); ++i) {
      QueueWorkerRow w;
      w.id = workers->Int(i, 0);
      w.host = workers->Text(i, 1);
      w.pid = workers->Int(i, 2);
      w.device = workers->Text(i, 3);
      w.started = workers->Text(i, 4);
      w.last_heartbeat = workers->Text(i, 5);
      w.seconds_since_heartbeat = workers->Real(i, 6);
      w.stopped = workers->Text(i, 7) == "t";
      w.done = workers->Int(i, 8);
      w.failed = workers->Int(i, 9);
      w.files_per_s = workers->Real(i, 10);
      out.workers.push_back(std::move(w));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

}  // namespace mediadex::catalog::postgres
