#include "catalog/postgres/pg_connection.h"

#include <libpq-fe.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace mediadex::catalog::postgres {
namespace {

// libpq prints NOTICEs ("relation already exists, skipping") to stderr by default; they are
// not errors and would interleave with the CLI's output.
void IgnoreNotice(void*, const char*) {}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Status StatusFor(const std::string& sqlstate, std::string message) {
  if (IsRetryableSqlState(sqlstate)) return Status(StatusCode::kBusy, std::move(message));
  if (sqlstate.rfind("23", 0) == 0) return InvalidArgument(std::move(message));
  if (sqlstate == "57014") return Cancelled(std::move(message));
  if (sqlstate == "53200") return OutOfMemory(std::move(message));
  return IOError(std::move(message));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool IsPostgresUrl(const std::string& s) { return s.rfind("postgres://", 0) == 0 || s.rfind("postgresql://", 0) == 0; }

bool IsRetryableSqlState(const std::string& sqlstate) {
  return sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03";
}

std::string RedactUrl(const std::string& url) {
  std::string out = url;
  // user:password@host
  const size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    const size_t start = scheme + 3;
    const size_t at = out.find('@', start);
    const size_t slash = out.find('/', start);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
      const size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ?password=... or &password=... (URL form) and password=... (key=value form)
  for (size_t pos = 0; (pos = out.find("password=", pos)) != std::string::npos;) {
    const bool word_start = pos == 0 || out[pos - 1] == '?' || out[pos - 1] == '&' || out[pos - 1] == ' ';
    pos += 9;
    if (!word_start) continue;
    size_t end = pos;
    while (end < out.size() && out[end] != '&' && out[end] != ' ') ++end;
    out.replace(pos, end - pos, "***");
    pos += 3;
  }
  return out;
}

Param Param::Real(double v) {
  std::string s;
  AppendCopyReal(&s, v);
  return {s, false, false};
}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_) PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

PgResult::~PgResult() {
  if (result_) PQclear(result_);
}

int PgResult::rows() const { return result_ ? PQntuples(result_) : 0; }
int PgResult::columns() const { return result_ ? PQnfields(result_) : 0; }
bool PgResult::IsNull(int row, int col) const { return PQgetisnull(result_, row, col) != 0; }

std::string PgResult::Text(int row, int col) const {
  if (IsNull(row, col)) return std::string();
  return std::string(PQgetvalue(result_, row, col), static_cast<size_t>(PQgetlength(result_, row, col)));
}

int64_t PgResult::Int(int row, int col) const {
  if (IsNull(row, col)) return 0;
  return std::strtoll(PQgetvalue(result_, row, col), nullptr, 10);
}

double PgResult::Real(int row, int col) const {
  if (IsNull(row, col)) return 0;
  return std::strtod(PQgetvalue(result_, row, col), nullptr);
}

std::string PgResult::Bytes(int row, int col) const {
  // BYTEA in text format is "\x" followed by hex (bytea_output = hex, the default since 9.0;
  // Connect() sets it for the session in case a server was configured otherwise).
  const char* v = PQgetvalue(result_, row, col);
  const size_t n = static_cast<size_t>(PQgetlength(result_, row, col));
  std::string out;
  if (n >= 2 && v[0] == '\\' && v[1] == 'x') {
    out.reserve((n - 2) / 2);
    for (size_t i = 2; i + 1 < n; i += 2) {
      const int hi = HexValue(v[i]), lo = HexValue(v[i + 1]);
      if (hi < 0 || lo < 0) break;
      out.push_back(static_cast<char>(hi * 16 + lo));
    }
    return out;
  }
  size_t len = 0;  // escape format: let libpq decode it
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(v), &len);
  if (raw) {
    out.assign(reinterpret_cast<char*>(raw), len);
    PQfreemem(raw);
  }
  return out;
}

int64_t PgResult::affected() const {
  const char* n = result_ ? PQcmdTuples(result_) : "";
  return *n ? std::strtoll(n, nullptr, 10) : 0;
}

Result<std::unique_ptr<Connection>> Connection::Connect(const std::string& url, const std::string& application_name) {
  const std::string name = RedactUrl(url);
  // Keywords override the URL's own settings only where we must: the application name (for
  // pg_stat_activity) and the URL itself via expand_dbname.
  const char* keys[] = {"dbname", "application_name", "client_encoding", nullptr};
  const char* values[] = {url.c_str(), application_name.empty() ? nullptr : application_name.c_str(), "UTF8", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn) return OutOfMemory(name + ": cannot allocate a PostgreSQL connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = Trim(PQerrorMessage(conn));
    PQfinish(conn);
    // libpq's message never contains the password, but it may quote the host; keep it.
    return IOError(name + ": cannot connect to PostgreSQL: " + why);
  }
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  std::unique_ptr<Connection> out(new Connection(conn, name));
  MDX_RETURN_IF_ERROR(out->Exec("SET bytea_output = 'hex'"));
  return out;
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

bool Connection::alive() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }

bool Connection::in_transaction() const {
  const PGTransactionStatusType s = PQtransactionStatus(conn_);
  return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE;
}

Status Connection::Error(pg_result* result, const std::string& what) {
  last_sqlstate_.clear();
  std::string message;
  if (result) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    if (state) last_sqlstate_ = state;
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
    message = primary ? primary : Trim(PQresultErrorMessage(result));
    if (detail) message += std::string(" (") + detail + ")";
  }
  if (message.empty()) message = Trim(PQerrorMessage(conn_));
  if (PQstatus(conn_) != CONNECTION_OK) {
    // The server went away (restart, network): no SQLSTATE of a statement applies.
    return IOError(name_ + ": lost the connection to PostgreSQL (" + what + "): " + message);
  }
  std::string text = name_ + ": " + what + ": " + message;
  if (!last_sqlstate_.empty()) text += " (SQLSTATE " + last_sqlstate_ + ")";
  return StatusFor(last_sqlstate_, std::move(text));
}

Status Connection::Exec(const std::string& sql) {
  PgResult result(PQexec(conn_, sql.c_str()));
  const ExecStatusType s = result.raw() ? PQresultStatus(result.raw()) : PGRES_FATAL_ERROR;
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) return Error(result.raw(), "statement failed");
  last_sqlstate_.clear();
  return Status::Ok();
}

Result<PgResult> Connection::Query(const std::string& sql, const std::vector<Param>& params) {
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size());
  std::vector<int> formats(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].null ? nullptr : params[i].value.c_str();
    lengths[i] = static_cast<int>(params[i].value.size());
    formats[i] = params[i].binary ? 1 : 0;
  }
  PgResult result(PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                               lengths.data(), formats.data(), /*resultFormat=*/0));
  const ExecStatusType s = result.raw() ? PQresultStatus(result.raw()) : PGRES_FATAL_ERROR;
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) return Error(result.raw(), "query failed");
  last_sqlstate_.clear();
  return result;
}

Result<int64_t> Connection::QueryInt(const std::string& sql, const std::vector<Param>& params) {
  auto result = Query(sql, params);
  if (!result.ok()) return result.status();
  if (result->rows() == 0 || result->columns() == 0) return NotFound(name_ + ": no row for: " + sql);
  return result->Int(0, 0);
}

Result<int64_t> Connection::CopyIn(const std::string& copy_sql, const std::string& data) {
  {
    PgResult start(PQexec(conn_, copy_sql.c_str()));
    if (!start.raw() || PQresultStatus(start.raw()) != PGRES_COPY_IN) return Error(start.raw(), "COPY failed");
  }
  // Chunks of 1 MiB: libpq buffers what it cannot send yet, so one call per chunk bounds that.
  constexpr size_t kChunk = 1 << 20;
  for (size_t off = 0; off < data.size(); off += kChunk) {
    const size_t n = std::min(kChunk, data.size() - off);
    if (PQputCopyData(conn_, data.data() + off, static_cast<int>(n)) != 1) {
      (void)PQputCopyEnd(conn_, "client failed to send");
      PgResult drain(PQgetResult(conn_));
      while (PGresult* more = PQgetResult(conn_)) PQclear(more);
      return Error(nullptr, "COPY failed to send");
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) return Error(nullptr, "COPY failed to end");
  PgResult result(PQgetResult(conn_));
  while (PGresult* more = PQgetResult(conn_)) PQclear(more);
  if (!result.raw() || PQresultStatus(result.raw()) != PGRES_COMMAND_OK) return Error(result.raw(), "COPY failed");
  last_sqlstate_.clear();
  return result.affected();
}

Status Connection::AdvisoryLock(int32_t k1, int32_t k2) {
  auto r = Query("SELECT pg_advisory_lock($1::int4, $2::int4)", {Param::Int(k1), Param::Int(k2)});
  return r.status();
}

Result<bool> Connection::TryAdvisoryLock(int32_t k1, int32_t k2) {
  auto r = Query("SELECT pg_try_advisory_lock($1::int4, $2::int4)", {Param::Int(k1), Param::Int(k2)});
  if (!r.ok()) return r.status();
  return r->Text(0, 0) == "t";
}

Status Connection::AdvisoryUnlock(int32_t k1, int32_t k2) {
  auto r = Query("SELECT pg_advisory_unlock($1::int4, $2::int4)", {Param::Int(k1), Param::Int(k2)});
  return r.status();
}

Transaction::~Transaction() {
  if (open_) (void)Rollback();
}

Status Transaction::Begin(const std::string& begin) {
  MDX_RETURN_IF_ERROR(conn_.Exec(begin));
  open_ = true;
  return Status::Ok();
}

Status Transaction::Commit() {
  if (!open_) return InvalidArgument(conn_.name() + ": COMMIT without BEGIN");
  open_ = false;
  // COMMIT of an aborted transaction "succeeds" as a ROLLBACK: check the state first so a
  // caller that ignored a failed statement cannot believe its writes landed.
  if (PQtransactionStatus(conn_.raw()) == PQTRANS_INERROR) {
    (void)conn_.Exec("ROLLBACK");
    return IOError(conn_.name() + ": transaction aborted by an earlier error; rolled back");
  }
  return conn_.Exec("COMMIT");
}

Status Transaction::Rollback() {
  if (!open_) return Status::Ok();
  open_ = false;
  if (!conn_.alive()) return Status::Ok();  // the server rolled it back when the link went
  return conn_.Exec("ROLLBACK");
}

void AppendCopyText(std::string* row, const std::string& value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        *row += "\\\\";
        break;
      case '\t':
        *row += "\\t";
        break;
      case '\n':
        *row += "\\n";
        break;
      case '\r':
        *row += "\\r";
        break;
      default:
        row->push_back(c);
    }
  }
}

void AppendCopyBytes(std::string* row, const std::string& bytes) {
  static const char kHex[] = "0123456789abcdef";
  *row += "\\\\x";  // COPY text unescapes "\\" to "\", leaving bytea's "\x" hex form
  for (unsigned char c : bytes) {
    row->push_back(kHex[c >> 4]);
    row->push_back(kHex[c & 15]);
  }
}

void AppendCopyReal(std::string* row, double value) {
  if (std::isnan(value)) {
    *row += "NaN";
  } else if (std::isinf(value)) {
    *row += value > 0 ? "Infinity" : "-Infinity";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.17g", value);
    *row += buf;
  }
}

}  // namespace mediadex::catalog::postgres
