// Small RAII helpers over the sqlite3 C API, private to catalog/sqlite/.
#ifndef MEDIADEX_CATALOG_SQLITE_STATEMENT_H_
#define MEDIADEX_CATALOG_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <unordered_map>

#include "core/status.h"

namespace mediadex::catalog::sqlite {

// Maps an sqlite3 result code to our Status: BUSY/LOCKED -> Busy, CORRUPT/NOTADB -> Corrupt,
// CONSTRAINT -> InvalidArgument, FULL (and an IOERR whose errno is ENOSPC) -> IOError
// "<path>: disk full: ...", everything else -> IOError. `what` says what we were doing.
Status SqlError(sqlite3* db, int rc, const std::string& path, const std::string& what);

// A prepared statement borrowed from the cache for one use: reset and unbound when it leaves
// scope, so the next user always starts clean (even after an early return).
class Stmt {
 public:
  Stmt(sqlite3_stmt* stmt, sqlite3* db, const std::string* path) : stmt_(stmt), db_(db), path_(path) {}
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // Binds by 1-based position; returns *this so binds chain.
  Stmt& Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); return *this; }
  Stmt& Bind(int i, int v) { sqlite3_bind_int64(stmt_, i, v); return *this; }
  Stmt& Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); return *this; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindNull(int i) { sqlite3_bind_null(stmt_, i); return *this; }

  // Ready for the next use inside the same scope (a loop of inserts).
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // One step: true when a row is ready, false when done; errors land in *status.
  bool Step(Status* status);
  // Runs to completion (for writes).
  Status Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
  }

 private:
  sqlite3_stmt* stmt_;
  sqlite3* db_;
  const std::string* path_;
};

// Owns an open connection and its prepared statements (keyed by SQL text).
class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  Status Open(const std::string& path, int flags);
  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

  // Runs one or more statements without results (DDL, pragmas, BEGIN/COMMIT).
  Status Exec(const std::string& sql);
  // A cached statement; `*status` says why when it returns false.
  bool Prepare(const std::string& sql, sqlite3_stmt** out, Status* status);
  // Single integer from a query such as "PRAGMA user_version".
  Result<int64_t> QueryInt(const std::string& sql);

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace mediadex::catalog::sqlite

#endif  // MEDIADEX_CATALOG_SQLITE_STATEMENT_H_
