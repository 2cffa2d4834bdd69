// Helpers shared by the SQLite gallery reads (gallery.cpp, media_list.cpp): SQL built together
// with its parameters, a read snapshot, opaque cursors, and the item columns both read.
#ifndef MEDIADEX_CATALOG_SQLITE_GALLERY_SQL_H_
#define MEDIADEX_CATALOG_SQLITE_GALLERY_SQL_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/gallery_cursor.h"
#include "catalog/sqlite/statement.h"

namespace mediadex::catalog::sqlite {

using Value = std::variant<int64_t, double, std::string>;

// SQL text and its parameters, appended together so positions always match.
struct Query {
  std::string sql;
  std::vector<Value> binds;
  Query& Add(const std::string& text) {
    sql += text;
    return *this;
  }
  Query& Add(const std::string& text, Value v) {
    sql += text;
    binds.push_back(std::move(v));
    return *this;
  }
  void BindAll(Stmt& stmt) const;
};

// A deferred read transaction: the page's queries see one snapshot while the indexer commits.
class ReadTxn {
 public:
  explicit ReadTxn(Connection& conn) : conn_(conn) { ok_ = conn_.Exec("BEGIN").ok(); }
  ~ReadTxn() {
    if (ok_ && !sqlite3_get_autocommit(conn_.db())) (void)conn_.Exec("COMMIT");
  }

 private:
  Connection& conn_;
  bool ok_ = false;
};

// "?, ?, ?" for n placeholders.
std::string Placeholders(size_t n);

// The analysis state of `m` for the model bound at `a`'s join: stale results count as pending.
constexpr const char* kStatusExpr =
    "CASE WHEN a.status IS NOT NULL AND a.size = m.size AND a.mtime_ns = m.mtime_ns THEN a.status "
    "ELSE 'pending' END";

// Columns of an item query (media m LEFT JOIN analyses a), in ReadItem's order.
extern const char* const kItemColumns;
MediaItem ReadItem(const Stmt& stmt);

// Runs `q`, calling `row` for each result row.
template <typename Fn>
Status ForEachRow(Connection& conn, const Query& q, Fn row) {
  Status status;
  sqlite3_stmt* raw = nullptr;
  if (!conn.Prepare(q.sql, &raw, &status)) return status;
  Stmt stmt(raw, conn.db(), &conn.path());
  q.BindAll(stmt);
  while (stmt.Step(&status)) row(stmt);
  return status;
}

}  // namespace mediadex::catalog::sqlite

#endif  // MEDIADEX_CATALOG_SQLITE_GALLERY_SQL_H_
