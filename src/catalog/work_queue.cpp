#include "catalog/work_queue.h"

#include "catalog/postgres/pg_connection.h"
#include "catalog/postgres/pg_work_queue.h"

namespace mediadex::catalog {

Result<std::unique_ptr<WorkQueue>> OpenWorkQueue(const std::string& url, const std::string& application_name) {
  if (!postgres::IsPostgresUrl(url)) {
    return Unsupported((url.empty() ? std::string("the default SQLite catalog") : url) +
                       ": the work queue (--enqueue, worker) needs a PostgreSQL catalog (--catalog postgresql://...); "
                       "an SQLite catalog can be split with --shard I/N instead");
  }
  auto queue = postgres::PgWorkQueue::Open(url, application_name);
  if (!queue.ok()) return queue.status();
  return std::unique_ptr<WorkQueue>(std::move(queue).value());
}

}  // namespace mediadex::catalog
