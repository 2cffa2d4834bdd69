#include "catalog/postgres/pg_run_lock.h"

#include <unistd.h>

#include "catalog/postgres/pg_connection.h"
#include "catalog/postgres/pg_schema.h"

namespace mediadex::catalog::postgres {
namespace {

// Holds the connection, and so the session's advisory lock, until destroyed.
class PgRunLock final : public RunLock::Holder {
 public:
  explicit PgRunLock(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

 private:
  std::unique_ptr<Connection> conn_;
};

std::string HostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) return "?";
  return host;
}

// "mediadex index pid 4242 on nas, from 10.0.0.5, since 2026-12-04 03:00:00+00", or "".
std::string Holder(Connection& conn, int32_t key) {
  auto r = conn.Query(
      "SELECT a.application_name, COALESCE(host(a.client_addr), 'local socket'), "
      "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
      "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
      "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 2 "
      "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1",
      {Param::Int(kRunLockClass), Param::Int(key)});
  if (!r.ok() || r->rows() == 0) return "";
  return r->Text(0, 0) + ", from " + r->Text(0, 1) + ", since " + r->Text(0, 2);
}

}  // namespace

Result<std::unique_ptr<RunLock::Holder>> AcquireRunLock(const std::string& url) {
  const std::string me = "mediadex index pid " + std::to_string(::getpid()) + " on " + HostName();
  auto conn = Connection::Connect(url, me.substr(0, 63));  // NAMEDATALEN - 1
  if (!conn.ok()) return conn.status();
  auto key = SchemaKey(**conn);
  if (!key.ok()) return key.status();
  auto got = (*conn)->TryAdvisoryLock(kRunLockClass, *key);
  if (!got.ok()) return got.status();
  if (!*got) {
    const std::string holder = Holder(**conn, *key);
    return Status(StatusCode::kBusy,
                  (*conn)->name() + ": another `mediadex index` run" + (holder.empty() ? "" : " (" + holder + ")") +
                      " is using this catalog; wait for it to finish, or share the work with `mediadex index "
                      "--enqueue` and `mediadex worker` (two runs would analyse every file twice)");
  }
  return std::unique_ptr<RunLock::Holder>(new PgRunLock(std::move(conn).value()));
}

}  // namespace mediadex::catalog::postgres
