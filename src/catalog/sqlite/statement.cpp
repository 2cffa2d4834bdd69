#include "catalog/sqlite/statement.h"

#include <cerrno>

namespace mediadex::catalog::sqlite {

Status SqlError(sqlite3* db, int rc, const std::string& path, const std::string& what) {
  std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = path + ": " + what + ": " + detail;
  // SQLite says "disk I/O error" when a write fails with ENOSPC (its xWrite maps a short write
  // to SQLITE_FULL, but a failed fsync or WAL append arrives as an IOERR): both are disk full.
  const bool disk_full =
      (rc & 0xff) == SQLITE_FULL || ((rc & 0xff) == SQLITE_IOERR && db && sqlite3_system_errno(db) == ENOSPC);
  if (disk_full) {
    return IOError(path + ": disk full: " + what + " (" + detail +
                   "); nothing of this transaction was written: free space on the catalog's disk and run again");
  }
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status(StatusCode::kBusy, message + " (another process holds the catalog)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Corrupt(message);
    case SQLITE_CONSTRAINT:
      return InvalidArgument(message);
    case SQLITE_NOMEM:
      return OutOfMemory(message);
    default:
      return IOError(message);
  }
}

bool Stmt::Step(Status* status) {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc != SQLITE_DONE) *status = SqlError(db_, rc, *path_, "query failed");
  return false;
}

Status Stmt::Run() {
  Status status;
  while (Step(&status)) {
  }
  return status;
}

Connection::~Connection() {
  for (auto& entry : cache_) sqlite3_finalize(entry.second);
  if (db_) sqlite3_close_v2(db_);
}

Status Connection::Open(const std::string& path, int flags) {
  path_ = path;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status status = SqlError(db_, rc, path, "cannot open catalog");
    sqlite3_close_v2(db_);
    db_ = nullptr;
    return status;
  }
  sqlite3_extended_result_codes(db_, 1);
  return Status::Ok();
}

Status Connection::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);
  if (rc != SQLITE_OK) return SqlError(db_, rc, path_, "'" + sql.substr(0, 40) + "' failed");
  return Status::Ok();
}

bool Connection::Prepare(const std::string& sql, sqlite3_stmt** out, Status* status) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    *out = it->second;
    return true;
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                              &stmt, nullptr);
  if (rc != SQLITE_OK) {
    *status = SqlError(db_, rc, path_, "cannot prepare statement");
    sqlite3_finalize(stmt);
    return false;
  }
  cache_.emplace(sql, stmt);
  *out = stmt;
  return true;
}

Result<int64_t> Connection::QueryInt(const std::string& sql) {
  Status status;
  sqlite3_stmt* raw = nullptr;
  if (!Prepare(sql, &raw, &status)) return status;
  Stmt stmt(raw, db_, &path_);
  if (!stmt.Step(&status)) {
    if (!status.ok()) return status;
    return Corrupt(path_ + ": '" + sql + "' returned no row");
  }
  return stmt.Int(0);
}

}  // namespace mediadex::catalog::sqlite
