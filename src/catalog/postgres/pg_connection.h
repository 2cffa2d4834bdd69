// A small RAII wrapper around libpq, PostgreSQL's own C client: a connection, results that free
// themselves, parameterised queries, a transaction guard, COPY FROM STDIN and advisory locks.
// The PostgreSQL catalog and the work queue build on it; libpq's headers stay in this folder.
//
//   auto conn = postgres::Connection::Connect("postgresql://u@db/mediadex");
//   postgres::Transaction tx(**conn);
//   MDX_RETURN_IF_ERROR(tx.Begin());
//   auto rows = (*conn)->Query("SELECT id FROM media WHERE path = $1", {Param::Bytes(path)});
//   MDX_RETURN_IF_ERROR(tx.Commit());          // leaving scope without Commit() rolls back
//
// Errors map to Status codes: serialization failures and deadlocks (SQLSTATE 40001, 40P01) and
// lock timeouts (55P03) are Busy (retry the transaction); constraint violations (23xxx: 23505
// unique, 23503 foreign key) are InvalidArgument; a lost or refused connection (08xxx, or the
// socket gone) is IOError; a cancelled query (57014) is Cancelled; the rest IOError. The
// SQLSTATE stays readable through Connection::last_sqlstate() and in the message, "(SQLSTATE
// 23505)". Messages name the server by its URL with any password replaced by "***".
//
// Thread safety: one thread at a time per Connection (libpq's rule too).
#ifndef MEDIADEX_CATALOG_POSTGRES_PG_CONNECTION_H_
#define MEDIADEX_CATALOG_POSTGRES_PG_CONNECTION_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

struct pg_conn;
struct pg_result;

namespace mediadex::catalog::postgres {

// `url` with the password (user:PASSWORD@ or password=...) replaced by "***", for messages.
std::string RedactUrl(const std::string& url);

// True for postgres:// and postgresql:// URLs.
bool IsPostgresUrl(const std::string& s);

// True for SQLSTATEs after which the same transaction may succeed when run again.
bool IsRetryableSqlState(const std::string& sqlstate);

// One query parameter, sent as text (numbers, text) or as raw bytes (BYTEA columns).
struct Param {
  std::string value;
  bool null = false;
  bool binary = false;  // raw bytes for a BYTEA parameter: no escaping, any byte allowed

  static Param Text(std::string v) { return {std::move(v), false, false}; }
  static Param Int(int64_t v) { return {std::to_string(v), false, false}; }
  static Param Real(double v);  // exact: 17 significant digits
  static Param Bytes(std::string v) { return {std::move(v), false, true}; }
  static Param Null() { return {std::string(), true, false}; }
};

// A query's rows (text format); frees the PGresult with it. Move-only.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* result) : result_(result) {}
  PgResult(PgResult&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
  PgResult& operator=(PgResult&& other) noexcept;
  PgResult(const PgResult&) = delete;
  PgResult& operator=(const PgResult&) = delete;
  ~PgResult();

  int rows() const;
  int columns() const;
  bool IsNull(int row, int col) const;
  std::string Text(int row, int col) const;   // "" for NULL
  int64_t Int(int row, int col) const;        // 0 for NULL
  double Real(int row, int col) const;        // 0 for NULL
  std::string Bytes(int row, int col) const;  // a BYTEA column's raw bytes
  // Rows an INSERT/UPDATE/DELETE touched (PQcmdTuples).
  int64_t affected() const;
  pg_result* raw() const { return result_; }

 private:
  pg_result* result_ = nullptr;
};

class Connection {
 public:
  // Connects to `url` (anything libpq's PQconnectdb takes). application_name shows in
  // pg_stat_activity (the run lock names its holder with it); empty keeps libpq's default.
  // IOError naming the redacted URL when the server cannot be reached or refuses.
  static Result<std::unique_ptr<Connection>> Connect(const std::string& url,
                                                     const std::string& application_name = "mediadex");
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements without parameters (simple query protocol).
  Status Exec(const std::string& sql);
  // Runs one statement with $1..$n parameters; the rows come back in text format.
  Result<PgResult> Query(const std::string& sql, const std::vector<Param>& params = {});
  // Query() for a single integer (the first column of the first row; NotFound when no row).
  Result<int64_t> QueryInt(const std::string& sql, const std::vector<Param>& params = {});

  // COPY ... FROM STDIN with `data` already in COPY's text format (see CopyText()).
  // Returns the number of rows copied.
  Result<int64_t> CopyIn(const std::string& copy_sql, const std::string& data);

  // Session-level advisory locks on the two-int key (k1, k2): held until Unlock or disconnect.
  Status AdvisoryLock(int32_t k1, int32_t k2);           // waits
  Result<bool> TryAdvisoryLock(int32_t k1, int32_t k2);  // false when another session holds it
  Status AdvisoryUnlock(int32_t k1, int32_t k2);

  // The SQLSTATE of the last failed call ("" after success or for client-side failures).
  const std::string& last_sqlstate() const { return last_sqlstate_; }
  // The redacted URL, for messages.
  const std::string& name() const { return name_; }
  // True while the connection is up (false once the server went away).
  bool alive() const;
  // True inside a transaction block (BEGIN without COMMIT/ROLLBACK yet, or an aborted one).
  bool in_transaction() const;
  pg_conn* raw() const { return conn_; }

 private:
  Connection(pg_conn* conn, std::string name) : conn_(conn), name_(std::move(name)) {}
  // Turns a failed result (or none) into a Status, recording the SQLSTATE.
  Status Error(pg_result* result, const std::string& what);

  pg_conn* conn_ = nullptr;
  std::string name_;
  std::string last_sqlstate_;
};

// BEGIN on Begin(), COMMIT on Commit(), ROLLBACK when it leaves scope uncommitted (also after a
// failed statement, which aborts the transaction in PostgreSQL).
class Transaction {
 public:
  explicit Transaction(Connection& conn) : conn_(conn) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // `begin` may carry options: "BEGIN ISOLATION LEVEL REPEATABLE READ", "BEGIN READ ONLY".
  Status Begin(const std::string& begin = "BEGIN");
  Status Commit();
  Status Rollback();

 private:
  Connection& conn_;
  bool open_ = false;
};

// Appends `value` to a COPY text-format row, escaping backslash, tab, newline and carriage
// return. Callers add '\t' between columns and '\n' after each row; "\\N" is NULL.
void AppendCopyText(std::string* row, const std::string& value);
// A BYTEA value for a COPY text-format row: "\\x" and hex digits (any bytes allowed).
void AppendCopyBytes(std::string* row, const std::string& bytes);
// A double in COPY text format, exact (17 significant digits; "NaN"/"Infinity" spelled out).
void AppendCopyReal(std::string* row, double value);

}  // namespace mediadex::catalog::postgres

#endif  // MEDIADEX_CATALOG_POSTGRES_PG_CONNECTION_H_
