#include "catalog/postgres/pg_read.h"

#include <exception>

namespace mediadex::catalog::postgres {

Status InTransaction(Connection& conn, const char* begin, const std::function<Status()>& body) {
  constexpr int kAttempts = 3;
  Status status;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    Transaction tx(conn);
    MDX_RETURN_IF_ERROR(tx.Begin(begin));
    try {
      status = body();
    } catch (const std::exception& e) {
      status = IOError(conn.name() + ": " + e.what());
    }
    if (status.ok()) status = tx.Commit();
    if (status.ok() || !IsRetryableSqlState(conn.last_sqlstate())) return status;
  }
  return status;
}

Result<int64_t> ResolveModel(Connection& conn, int64_t model_id) {
  if (model_id > 0) return model_id;
  for (const char* sql : {"SELECT COALESCE((SELECT model_id FROM runs ORDER BY id DESC LIMIT 1), 0)",
                          "SELECT COALESCE((SELECT id FROM models ORDER BY id DESC LIMIT 1), 0)"}) {
    auto id = conn.QueryInt(sql);
    if (!id.ok() || *id > 0) return id;
  }
  return int64_t{0};
}

}  // namespace mediadex::catalog::postgres
