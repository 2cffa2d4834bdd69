// The gallery reads of the SQLite catalog (catalog.h, "Gallery reads"): filtered, keyset-paged
// media lists, one file with its detections, label counts and paged errors. Every value reaches
// SQLite as a bound parameter; only the shape of the SQL (which filters are present) varies.
#include <sqlite3.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <variant>

#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/sqlite/statement.h"

namespace mediadex::catalog::sqlite {
namespace {

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
  void BindAll(Stmt& stmt) const {
    for (size_t i = 0; i < binds.size(); ++i) {
      const int pos = static_cast<int>(i + 1);
      if (auto* n = std::get_if<int64_t>(&binds[i]))
        stmt.Bind(pos, *n);
      else if (auto* d = std::get_if<double>(&binds[i]))
        stmt.Bind(pos, *d);
      else
        stmt.Bind(pos, std::get<std::string>(binds[i]));
    }
  }
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

// Cursors are opaque to clients: hex of "kind|key|id", so no character needs URL escaping.
std::string Hex(const std::string& text) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

bool Unhex(const std::string& hex, std::string* out) {
  if (hex.size() % 2 != 0 || hex.size() > 8192) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

// "d|<capture_time>|<id>" (date sort) or "s|<score>|<id>" (score sort).
struct MediaCursor {
  char kind = 0;
  int64_t time = 0;
  double score = 0;
  int64_t id = 0;
};

std::string EncodeCursor(const MediaCursor& c) {
  char buf[96];
  if (c.kind == 'd')
    std::snprintf(buf, sizeof(buf), "d|%" PRId64 "|%" PRId64, c.time, c.id);
  else
    std::snprintf(buf, sizeof(buf), "s|%.17g|%" PRId64, c.score, c.id);
  return Hex(buf);
}

bool DecodeCursor(const std::string& text, char kind, MediaCursor* c) {
  std::string raw;
  if (!Unhex(text, &raw) || raw.size() < 5 || raw[0] != kind || raw[1] != '|') return false;
  const size_t bar = raw.find('|', 2);
  if (bar == std::string::npos) return false;
  const std::string key = raw.substr(2, bar - 2), id = raw.substr(bar + 1);
  char* end = nullptr;
  c->kind = kind;
  if (kind == 'd') {
    c->time = std::strtoll(key.c_str(), &end, 10);
  } else {
    c->score = std::strtod(key.c_str(), &end);
  }
  if (end == key.c_str() || *end != '\0') return false;
  c->id = std::strtoll(id.c_str(), &end, 10);
  return end != id.c_str() && *end == '\0' && c->id > 0;
}

// `%`, `_` and `\` are LIKE wildcards; escape them so a folder name matches literally.
std::string LikeLiteral(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

AnalysisStatus StatusFrom(const std::string& text) {
  if (text == "done") return AnalysisStatus::kDone;
  if (text == "failed") return AnalysisStatus::kFailed;
  return AnalysisStatus::kPending;
}

// Every label of the filter, for the best-score column.
std::vector<std::string> AllLabels(const MediaFilter& filter) {
  std::vector<std::string> labels;
  for (const auto& group : filter.label_groups)
    for (const auto& l : group)
      if (!l.empty()) labels.push_back(l);
  return labels;
}

std::string Placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

// Columns of the item query, in order.
constexpr const char* kItemColumns =
    "m.id, m.path, m.kind, m.width, m.height, m.orientation, m.capture_time, m.duration_s, m.content_hash, "
    "CASE WHEN a.status IS NOT NULL AND a.size = m.size AND a.mtime_ns = m.mtime_ns THEN a.status "
    "ELSE 'pending' END AS st, "
    "CASE WHEN a.status IS NOT NULL AND a.size = m.size AND a.mtime_ns = m.mtime_ns THEN a.error "
    "ELSE '' END AS err";

MediaItem ReadItem(const Stmt& stmt) {
  MediaItem item;
  item.id = stmt.Int(0);
  item.path = stmt.Text(1);
  item.kind = stmt.Text(2) == "video" ? MediaKind::kVideo : MediaKind::kImage;
  item.width = static_cast<int>(stmt.Int(3));
  item.height = static_cast<int>(stmt.Int(4));
  item.orientation = static_cast<int>(stmt.Int(5));
  item.capture_time = stmt.Int(6);
  item.duration_s = stmt.Real(7);
  item.content_hash = stmt.Text(8);
  item.status = StatusFrom(stmt.Text(9));
  item.error = stmt.Text(10);
  return item;
}

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

// The distinct labels of one file, best first (at least `min_score`).
Status FillLabels(Connection& conn, int64_t model_id, float min_score, MediaItem* item) {
  Query q;
  q.Add("SELECT label, MAX(score) AS s FROM detections WHERE media_id = ?", item->id)
      .Add(" AND model_id = ?", model_id)
      .Add(" AND score >= ?", static_cast<double>(min_score))
      .Add(" GROUP BY label ORDER BY s DESC, label");
  return ForEachRow(conn, q, [&](const Stmt& s) { item->labels.push_back(s.Text(0)); });
}

}  // namespace

Result<MediaPage> SqliteCatalog::ListMedia(const MediaFilter& filter) {
  const std::string& path = conn_->path();
  if (!filter.status.empty() && filter.status != "done" && filter.status != "failed" && filter.status != "pending") {
    return InvalidArgument("status must be done, failed or pending, not '" + filter.status + "'");
  }
  const bool by_date = filter.sort == MediaSort::kDate;
  MediaCursor cursor;
  if (!filter.cursor.empty() && !DecodeCursor(filter.cursor, by_date ? 'd' : 's', &cursor)) {
    return InvalidArgument("cursor is not one this listing made (was the sort changed?)");
  }
  const int limit = filter.limit > 0 ? filter.limit : 100;
  ReadTxn txn(*conn_);
  auto model = ResolveModel(*conn_, filter.model_id);
  if (!model.ok()) return model.status();
  const int64_t model_id = *model;
  const double min_score = filter.min_score;
  const std::vector<std::string> labels = AllLabels(filter);

  Query q;
  q.Add("SELECT * FROM (SELECT ").Add(kItemColumns);
  q.Add(", COALESCE((SELECT MAX(d.score) FROM detections d WHERE d.media_id = m.id AND d.model_id = ?", model_id);
  if (!labels.empty()) {
    q.Add(" AND d.label IN (" + Placeholders(labels.size()) + ")");
    for (const auto& l : labels) q.binds.push_back(l);
  }
  q.Add(" AND d.score >= ?), 0) AS best", min_score);
  q.Add(" FROM media m LEFT JOIN analyses a ON a.media_id = m.id AND a.model_id = ?", model_id);
  q.Add(" WHERE m.gone = 0");
  for (const auto& group : filter.label_groups) {
    if (group.empty()) continue;
    q.Add(" AND EXISTS (SELECT 1 FROM detections d WHERE d.media_id = m.id AND d.model_id = ?", model_id);
    q.Add(" AND d.label IN (" + Placeholders(group.size()) + ")");
    for (const auto& l : group) q.binds.push_back(l);
    q.Add(" AND d.score >= ?)", min_score);
  }
  if (labels.empty() && min_score > 0) {
    q.Add(" AND EXISTS (SELECT 1 FROM detections d WHERE d.media_id = m.id AND d.model_id = ?", model_id);
    q.Add(" AND d.score >= ?)", min_score);
  }
  std::string folder = filter.folder;
  while (!folder.empty() && folder.front() == '/') folder.erase(0, 1);
  while (!folder.empty() && folder.back() == '/') folder.pop_back();
  if (!folder.empty()) q.Add(" AND m.path LIKE ? ESCAPE '\\'", "%/" + LikeLiteral(folder) + "/%");
  if (filter.after != 0) q.Add(" AND m.capture_time >= ?", filter.after);
  if (filter.before != 0) q.Add(" AND m.capture_time < ? AND m.capture_time <> 0", filter.before);
  if (by_date && cursor.kind) {
    // Newest first; unknown dates (0) sort last on their own.
    q.Add(" AND (m.capture_time < ?", cursor.time).Add(" OR (m.capture_time = ?", cursor.time);
    q.Add(" AND m.id < ?))", cursor.id);
  }
  q.Add(")");
  q.Add(" WHERE 1");
  if (!filter.status.empty()) q.Add(" AND st = ?", filter.status);
  if (!by_date && cursor.kind) {
    q.Add(" AND (best < ?", cursor.score).Add(" OR (best = ?", cursor.score).Add(" AND id < ?))", cursor.id);
  }
  q.Add(by_date ? " ORDER BY capture_time DESC, id DESC" : " ORDER BY best DESC, id DESC");
  q.Add(" LIMIT ?", static_cast<int64_t>(limit) + 1);

  MediaPage page;
  Status status = ForEachRow(*conn_, q, [&](const Stmt& s) {
    MediaItem item = ReadItem(s);
    item.best_score = static_cast<float>(s.Real(11));
    page.items.push_back(std::move(item));
  });
  if (!status.ok()) return status.WithContext(path + ": listing media");
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.resize(limit);
    const MediaItem& last = page.items.back();
    MediaCursor next;
    next.kind = by_date ? 'd' : 's';
    next.time = last.capture_time;
    next.id = last.id;
    // The score as SQLite stored it (a double); the float in the item would not compare equal.
    next.score = 0;
    if (!by_date) {
      Query best;
      best.Add("SELECT COALESCE((SELECT MAX(d.score) FROM detections d WHERE d.media_id = ?", last.id)
          .Add(" AND d.model_id = ?", model_id);
      if (!labels.empty()) {
        best.Add(" AND d.label IN (" + Placeholders(labels.size()) + ")");
        for (const auto& l : labels) best.binds.push_back(l);
      }
      best.Add(" AND d.score >= ?), 0)", min_score);
      Status s = ForEachRow(*conn_, best, [&](const Stmt& row) { next.score = row.Real(0); });
      if (!s.ok()) return s;
    }
    page.next_cursor = EncodeCursor(next);
  }
  // Every item's labels in one query (not one per item: a page of 100 took 100 statements).
  if (!page.items.empty()) {
    std::map<int64_t, MediaItem*> by_id;
    Query labels_q;
    labels_q.Add("SELECT media_id, label, MAX(score) AS s FROM detections WHERE model_id = ?", model_id)
        .Add(" AND score >= ?", min_score)
        .Add(" AND media_id IN (" + Placeholders(page.items.size()) + ")");
    for (MediaItem& item : page.items) {
      labels_q.binds.push_back(item.id);
      by_id[item.id] = &item;
    }
    labels_q.Add(" GROUP BY media_id, label ORDER BY media_id, s DESC, label");
    MDX_RETURN_IF_ERROR(ForEachRow(*conn_, labels_q, [&](const Stmt& s) {
      auto it = by_id.find(s.Int(0));
      if (it != by_id.end()) it->second->labels.push_back(s.Text(1));
    }));
  }
  return page;
}

Result<MediaDetail> SqliteCatalog::GetMedia(int64_t id, int64_t model_id) {
  ReadTxn txn(*conn_);
  auto model = ResolveModel(*conn_, model_id);
  if (!model.ok()) return model.status();
  Query q;
  q.Add("SELECT ").Add(kItemColumns);
  q.Add(" FROM media m LEFT JOIN analyses a ON a.media_id = m.id AND a.model_id = ?", *model);
  q.Add(" WHERE m.id = ? AND m.gone = 0", id);
  MediaDetail detail;
  bool found = false;
  MDX_RETURN_IF_ERROR(ForEachRow(*conn_, q, [&](const Stmt& s) {
    detail.item = ReadItem(s);
    found = true;
  }));
  if (!found) return NotFound("no media with id " + std::to_string(id));
  Query dets;
  dets.Add("SELECT label, class_id, score, x1, y1, x2, y2, time_s FROM detections WHERE media_id = ?", id)
      .Add(" AND model_id = ? ORDER BY time_s, score DESC, id", *model);
  MDX_RETURN_IF_ERROR(ForEachRow(*conn_, dets, [&](const Stmt& s) {
    StoredDetection d;
    d.detection.label = s.Text(0);
    d.detection.class_id = static_cast<int>(s.Int(1));
    d.detection.score = static_cast<float>(s.Real(2));
    d.detection.box = {static_cast<float>(s.Real(3)), static_cast<float>(s.Real(4)), static_cast<float>(s.Real(5)),
                       static_cast<float>(s.Real(6))};
    d.time_s = s.Real(7);
    detail.detections.push_back(std::move(d));
    if (detail.detections.back().detection.score > detail.item.best_score)
      detail.item.best_score = detail.detections.back().detection.score;
  }));
  MDX_RETURN_IF_ERROR(FillLabels(*conn_, *model, 0.0f, &detail.item));
  return detail;
}

Result<std::vector<LabelCount>> SqliteCatalog::Labels(const std::string& prefix, int limit, int64_t model_id) {
  ReadTxn txn(*conn_);
  auto model = ResolveModel(*conn_, model_id);
  if (!model.ok()) return model.status();
  Query q;
  q.Add(
      "SELECT d.label, COUNT(DISTINCT d.media_id) AS files FROM detections d JOIN media m ON m.id = d.media_id "
      "WHERE d.model_id = ?",
      *model);
  q.Add(" AND m.gone = 0");
  if (!prefix.empty()) q.Add(" AND d.label LIKE ? ESCAPE '\\'", LikeLiteral(prefix) + "%");
  q.Add(" GROUP BY d.label ORDER BY files DESC, d.label LIMIT ?", static_cast<int64_t>(limit > 0 ? limit : 10));
  std::vector<LabelCount> out;
  MDX_RETURN_IF_ERROR(ForEachRow(*conn_, q, [&](const Stmt& s) { out.push_back({s.Text(0), s.Int(1)}); }));
  return out;
}

Result<ErrorPage> SqliteCatalog::ErrorsPage(int64_t model_id, int limit, const std::string& cursor) {
  std::string after;
  if (!cursor.empty()) {
    std::string raw;
    if (!Unhex(cursor, &raw) || raw.rfind("e|", 0) != 0) return InvalidArgument("cursor is not one this listing made");
    after = raw.substr(2);
  }
  if (limit <= 0) limit = 100;
  ReadTxn txn(*conn_);
  auto model = ResolveModel(*conn_, model_id);
  if (!model.ok()) return model.status();
  Query q;
  q.Add("SELECT m.id, m.path, a.error FROM analyses a JOIN media m ON m.id = a.media_id WHERE a.model_id = ?", *model);
  q.Add(" AND a.status = 'failed' AND m.gone = 0 AND a.size = m.size AND a.mtime_ns = m.mtime_ns");
  if (!cursor.empty()) q.Add(" AND m.path > ?", after);
  q.Add(" ORDER BY m.path LIMIT ?", static_cast<int64_t>(limit) + 1);
  ErrorPage page;
  MDX_RETURN_IF_ERROR(ForEachRow(*conn_, q, [&](const Stmt& s) {
    page.items.push_back({s.Int(0), s.Text(1), s.Text(2)});
  }));
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.resize(limit);
    page.next_cursor = Hex("e|" + page.items.back().path);
  }
  return page;
}

}  // namespace mediadex::catalog::sqlite
