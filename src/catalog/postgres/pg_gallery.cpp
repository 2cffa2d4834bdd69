// The gallery reads of the PostgreSQL catalog (catalog.h, "Gallery reads"), with the SQLite
// backend's semantics (sqlite/gallery.cpp, sqlite/media_list.cpp) but not its derived tables:
// each page is one or two queries over media, analyses and detections, and the planner picks
// the indexes (migration 3 in pg_schema.cpp adds media_capture and the per-model detection
// indexes). Every value is a $n parameter; only the shape of the SQL varies with the filter.
//
// How the filters read on PostgreSQL:
//  - labels compare as lower(label) = lower($n) (SQLite: COLLATE NOCASE), and a file's labels and
//    best scores are MAX(score) of its detections grouped by lower(label);
//  - the folder filter: paths are BYTEA, so a file's folder is kFolderExpr, its path up to the
//    last '/' through encode(path, 'escape') (bytes >= 0x80 and NUL as \ooo, a backslash
//    doubled) and lower(... COLLATE "C") (ASCII letters only, as SQLite's LIKE), indexed by
//    media_folder. A page first reads the distinct folders (one index probe each), matches them
//    with LIKE '%/a/b/%' (the pattern escaped the same way), then lists the files of those.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <unordered_map>

#include "catalog/gallery_cursor.h"
#include "catalog/postgres/pg_read.h"
#include "catalog/postgres/postgres_catalog.h"

namespace mediadex::catalog::postgres {
namespace {

// SQLite's NOCASE and LIKE fold ASCII letters only; so does the folder pattern.
std::string LowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// What encode(bytes, 'escape') makes of `bytes`.
std::string EscapeEncode(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == 0 || c >= 0x80) {
      out += '\\';
      out += static_cast<char>('0' + (c >> 6));
      out += static_cast<char>('0' + ((c >> 3) & 7));
      out += static_cast<char>('0' + (c & 7));
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// SQL text and its parameters built together: P() appends a parameter and returns its "$n".
struct Sql {
  std::string text;
  std::vector<Param> params;
  Sql& Add(const std::string& s) {
    text += s;
    return *this;
  }
  std::string P(Param p) {
    params.push_back(std::move(p));
    return "$" + std::to_string(params.size());
  }
  // "lower(<col>) IN (lower($a), lower($b))".
  std::string LabelIn(const std::string& col, const std::vector<std::string>& labels) {
    std::string s = "lower(" + col + ") IN (";
    for (size_t i = 0; i < labels.size(); ++i) s += (i ? ", lower(" : "lower(") + P(Param::Text(labels[i])) + ")";
    return s + ")";
  }
};

// A file's folder as index media_folder (migration 3) has it: text, ASCII lower case, ends in '/'.
constexpr const char* kFolderExpr = "lower(regexp_replace(encode(m.path, 'escape'), '[^/]*$', '') COLLATE \"C\")";

// The item columns (media m LEFT JOIN analyses a), in ReadItem's order; stale results are pending.
constexpr const char* kItemColumns =
    "m.id, m.path, m.kind, m.width, m.height, m.orientation, m.capture_time, m.duration_s, m.content_hash, "
    "CASE WHEN a.status IS NOT NULL AND a.size = m.size AND a.mtime_ns = m.mtime_ns THEN a.status "
    "ELSE 'pending' END, "
    "CASE WHEN a.status IS NOT NULL AND a.size = m.size AND a.mtime_ns = m.mtime_ns THEN a.error "
    "ELSE ''::bytea END";
constexpr int kItemColumnCount = 11;
constexpr const char* kStatusExpr =
    "CASE WHEN a.status IS NOT NULL AND a.size = m.size AND a.mtime_ns = m.mtime_ns THEN a.status "
    "ELSE 'pending' END";

AnalysisStatus StatusFrom(const std::string& text) {
  if (text == "done") return AnalysisStatus::kDone;
  if (text == "failed") return AnalysisStatus::kFailed;
  return AnalysisStatus::kPending;
}

MediaItem ReadItem(const PgResult& r, int row) {
  MediaItem item;
  item.id = r.Int(row, 0);
  item.path = r.Bytes(row, 1);
  item.kind = r.Text(row, 2) == "video" ? MediaKind::kVideo : MediaKind::kImage;
  item.width = static_cast<int>(r.Int(row, 3));
  item.height = static_cast<int>(r.Int(row, 4));
  item.orientation = static_cast<int>(r.Int(row, 5));
  item.capture_time = r.Int(row, 6);
  item.duration_s = r.Real(row, 7);
  item.content_hash = r.Text(row, 8);
  item.status = StatusFrom(r.Text(row, 9));
  item.error = r.Bytes(row, 10);
  return item;
}

// {"a","b"} for a text[] parameter.
Param TextArray(const std::vector<std::string>& items) {
  std::string s = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    s += i ? ",\"" : "\"";
    for (char c : items[i]) {
      if (c == '"' || c == '\\') s += '\\';
      s += c;
    }
    s += '"';
  }
  return Param::Text(s + "}");
}

// "{1,2,3}" for a bigint[] parameter.
Param IdArray(const std::vector<int64_t>& ids) {
  std::string s = "{";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return Param::Text(s + "}");
}

// The filter, resolved once.
struct Plan {
  int64_t model_id = 0;
  double min_score = 0;
  std::vector<std::string> labels;               // every label of every group, lower case, distinct
  std::vector<std::vector<std::string>> groups;  // lower case, empty groups dropped
  std::string folder_like;                       // LIKE pattern over kFolderExpr; "" = any folder
  std::vector<std::string> folders;              // the folders it matches (kFolderExpr values)
  int64_t after = 0, before = 0;
  std::string status;
};

Plan MakePlan(const MediaFilter& filter, int64_t model_id) {
  Plan p;
  p.model_id = model_id;
  p.min_score = filter.min_score;
  auto contains = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (const auto& group : filter.label_groups) {
    std::vector<std::string> g;
    for (const auto& l : group) {
      if (l.empty() || contains(g, LowerAscii(l))) continue;
      g.push_back(LowerAscii(l));
      if (!contains(p.labels, g.back())) p.labels.push_back(g.back());
    }
    if (!g.empty()) p.groups.push_back(std::move(g));
  }
  std::string folder = filter.folder;
  while (!folder.empty() && folder.front() == '/') folder.erase(0, 1);
  while (!folder.empty() && folder.back() == '/') folder.pop_back();
  // "%/a/b/%" over the whole path finds a/b as a run of whole directory components anywhere: it
  // ends with '/', so the match cannot reach into the file name (as SQLite's folders.path).
  if (!folder.empty()) p.folder_like = "%/" + LikeLiteral(EscapeEncode(LowerAscii(folder))) + "/%";
  p.after = filter.after;
  p.before = filter.before;
  p.status = filter.status;
  return p;
}

// " AND ..." for every filter but the sort, over `media m LEFT JOIN analyses a`; without the
// label and score filters when `with_labels` is false (the caller checks those itself).
void AddConditions(Sql& q, const Plan& p, bool with_labels = true) {
  for (const auto& group : with_labels ? p.groups : std::vector<std::vector<std::string>>()) {
    q.Add(" AND EXISTS (SELECT 1 FROM detections d WHERE d.media_id = m.id AND d.model_id = " +
          q.P(Param::Int(p.model_id)) + " AND " + q.LabelIn("d.label", group) +
          " AND d.score >= " + q.P(Param::Real(p.min_score)) + ")");
  }
  if (with_labels && p.groups.empty() && p.min_score > 0) {
    q.Add(" AND EXISTS (SELECT 1 FROM detections d WHERE d.media_id = m.id AND d.model_id = " +
          q.P(Param::Int(p.model_id)) + " AND d.score >= " + q.P(Param::Real(p.min_score)) + ")");
  }
  if (!p.folder_like.empty())
    q.Add(std::string(" AND ") + kFolderExpr + " = ANY(" + q.P(TextArray(p.folders)) + "::text[])");
  if (p.after != 0) q.Add(" AND m.capture_time >= " + q.P(Param::Int(p.after)));
  if (p.before != 0) q.Add(" AND m.capture_time < " + q.P(Param::Int(p.before)) + " AND m.capture_time <> 0");
  if (!p.status.empty()) q.Add(std::string(" AND ") + kStatusExpr + " = " + q.P(Param::Text(p.status)));
}

// A detection `d` that gives a file a (positive) score under the plan: its model, at least
// min_score, one of the filter's labels (any label without them).
std::string Scoring(Sql& q, const Plan& p, const std::string& d = "d") {
  std::string s = d + ".model_id = " + q.P(Param::Int(p.model_id)) + " AND " + d +
                  ".score >= " + q.P(Param::Real(p.min_score)) + " AND " + d + ".score > 0";
  if (!p.labels.empty()) s += " AND " + q.LabelIn(d + ".label", p.labels);
  return s;
}

// The folders of present files that match the plan's pattern: a walk over media_folder's
// distinct values (a loose index scan: one probe per folder, not one per file).
Status MatchFolders(Connection& conn, Plan* p) {
  const std::string e = kFolderExpr;
  auto r = conn.Query("WITH RECURSIVE dirs(dir) AS ((SELECT " + e + " FROM media m WHERE m.gone = 0 ORDER BY " + e +
                          " LIMIT 1) UNION ALL SELECT (SELECT " + e + " FROM media m WHERE m.gone = 0 AND " + e +
                          " > dirs.dir ORDER BY " + e +
                          " LIMIT 1) FROM dirs WHERE dirs.dir IS NOT NULL) "
                          "SELECT dir FROM dirs WHERE dir LIKE $1 ESCAPE '\\'",
                      {Param::Text(p->folder_like)});
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) p->folders.push_back(r->Text(i, 0));
  return Status::Ok();
}

// The page's rows before labels are filled: the item and its sort key.
struct Row {
  MediaItem item;
  double score = 0;
};

Status RunRows(Connection& conn, const Sql& q, bool with_score, std::vector<Row>* rows) {
  auto r = conn.Query(q.text, q.params);
  if (!r.ok()) return r.status();
  for (int i = 0; i < r->rows(); ++i) rows->push_back({ReadItem(*r, i), with_score ? r->Real(i, kItemColumnCount) : 0});
  return Status::Ok();
}

// Newest first; unknown dates (0) sort last on their own (as in SQLite); media_capture serves it.
Status DatePage(Connection& conn, const Plan& p, const MediaCursor& cursor, int want, std::vector<Row>* rows) {
  Sql q;
  q.Add(std::string("SELECT ") + kItemColumns + " FROM media m");
  q.Add(" LEFT JOIN analyses a ON a.media_id = m.id AND a.model_id = " + q.P(Param::Int(p.model_id)));
  q.Add(" WHERE m.gone = 0");
  AddConditions(q, p);
  if (cursor.kind) {
    q.Add(" AND (m.capture_time, m.id) < (" + q.P(Param::Int(cursor.time)) + ", " + q.P(Param::Int(cursor.id)) + ")");
  }
  q.Add(" ORDER BY m.capture_time DESC, m.id DESC LIMIT " + q.P(Param::Int(want)));
  return RunRows(conn, q, false, rows);
}

// Score order, files with a scoring detection, best first: SQLite's merge of index walks, in
// chunks. Each walk reads one label's scoring detections (all labels' without a label filter)
// best first, `chunk` at a time, from an index (detections_model_label_score or
// detections_model_score: a LIMITed index scan, whatever the planner thinks of the filters);
// the walks are merged in (score, media_id) order, and each chunk of candidates is checked in
// two queries: a file is taken where the walk meets its best score (so once), if it passes the
// other filters. A page reads about a page of detections when most files pass.
class ScoreWalk {
 public:
  ScoreWalk(const Plan& p, const std::string* label, const MediaCursor& cursor) : p_(p), label_(label) {
    if (cursor.kind) has_last_ = true, last_score_ = cursor.score, last_id_ = cursor.id;
  }
  // The walk's next candidate, reading the next chunk when needed; false at the end.
  Result<bool> Peek(Connection& conn, int chunk) {
    if (pos_ < buf_.size()) return true;
    if (done_) return false;
    Sql q;
    q.Add("SELECT d.media_id, d.score FROM detections d WHERE d.model_id = " + q.P(Param::Int(p_.model_id)));
    q.Add(" AND d.score >= " + q.P(Param::Real(p_.min_score)) + " AND d.score > 0");
    if (label_) q.Add(" AND lower(d.label) = lower(" + q.P(Param::Text(*label_)) + ")");
    if (has_last_) {
      q.Add(" AND (d.score, d.media_id) < (" + q.P(Param::Real(last_score_)) + ", " + q.P(Param::Int(last_id_)) + ")");
    }
    q.Add(" ORDER BY d.score DESC, d.media_id DESC LIMIT " + q.P(Param::Int(chunk)));
    auto r = conn.Query(q.text, q.params);
    if (!r.ok()) return r.status();
    buf_.clear();
    pos_ = 0;
    for (int i = 0; i < r->rows(); ++i) buf_.push_back({r->Int(i, 0), r->Real(i, 1)});
    done_ = r->rows() < chunk;
    if (!buf_.empty()) has_last_ = true, last_score_ = buf_.back().second, last_id_ = buf_.back().first;
    return !buf_.empty();
  }
  int64_t id() const { return buf_[pos_].first; }
  double score() const { return buf_[pos_].second; }
  void Pop() { ++pos_; }

 private:
  const Plan& p_;
  const std::string* label_;
  std::vector<std::pair<int64_t, double>> buf_;
  size_t pos_ = 0;
  bool done_ = false;
  bool has_last_ = false;
  double last_score_ = 0;
  int64_t last_id_ = 0;
};

// Of `batch` (candidates in walk order), the files taken: their best scoring detection is the
// candidate's score, and they pass every other filter.
Status CheckCandidates(Connection& conn, const Plan& p, const std::vector<std::pair<int64_t, double>>& batch, int want,
                       std::vector<Row>* rows) {
  std::vector<int64_t> ids;
  for (const auto& c : batch) ids.push_back(c.first);
  // Each candidate's labels with their best scores (lower case): its best and the label groups
  // are checked here, as SQLite's walk does, not by a join the planner would hash.
  std::unordered_map<int64_t, std::vector<std::pair<std::string, double>>> labels;
  {
    Sql q;
    q.Add("SELECT d.media_id, lower(d.label), MAX(d.score) FROM detections d WHERE d.media_id = ANY(" +
          q.P(IdArray(ids)) + "::bigint[]) AND d.model_id = " + q.P(Param::Int(p.model_id)) +
          " GROUP BY d.media_id, lower(d.label)");
    auto r = conn.Query(q.text, q.params);
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) labels[r->Int(i, 0)].emplace_back(LowerAscii(r->Text(i, 1)), r->Real(i, 2));
  }
  auto contains = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  // The file's best among the filter's labels (any label without them), at least min_score.
  auto best_of = [&](const std::vector<std::pair<std::string, double>>& ls) {
    double best = 0;
    for (const auto& [label, score] : ls) {
      if (score >= p.min_score && (p.labels.empty() || contains(p.labels, label))) best = std::max(best, score);
    }
    return best;
  };
  auto groups_match = [&](const std::vector<std::pair<std::string, double>>& ls) {
    for (const auto& group : p.groups) {
      bool any = false;
      for (const auto& [label, score] : ls) any = any || (score >= p.min_score && contains(group, label));
      if (!any) return false;
    }
    return true;  // min_score alone: the candidate scored at least min_score
  };
  std::unordered_map<int64_t, MediaItem> items;
  {
    Sql q;
    q.Add(std::string("SELECT ") + kItemColumns + " FROM media m");
    q.Add(" LEFT JOIN analyses a ON a.media_id = m.id AND a.model_id = " + q.P(Param::Int(p.model_id)));
    q.Add(" WHERE m.id = ANY(" + q.P(IdArray(ids)) + "::bigint[]) AND m.gone = 0");
    AddConditions(q, p, /*with_labels=*/false);
    auto r = conn.Query(q.text, q.params);
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      MediaItem item = ReadItem(*r, i);
      items.emplace(item.id, std::move(item));
    }
  }
  for (const auto& [id, score] : batch) {
    if (static_cast<int>(rows->size()) >= want) break;
    auto ls = labels.find(id);
    auto item = items.find(id);
    if (ls == labels.end() || item == items.end()) continue;
    if (best_of(ls->second) != score || !groups_match(ls->second)) continue;  // met below its best
    rows->push_back({std::move(item->second), score});
    items.erase(item);  // a file met twice at its best (two labels) is taken once
  }
  return Status::Ok();
}

// Score order from `from` on (exclusive) by one query: every matching file's best, sorted. For
// selective filters (a folder, rare label pairs), where walking best first meets mostly files
// that do not pass.
Status ScoreGatherPage(Connection& conn, const Plan& p, const MediaCursor& from, int want, std::vector<Row>* rows) {
  Sql q;
  q.Add(std::string("SELECT ") + kItemColumns + ", b.best FROM media m");
  q.Add(" LEFT JOIN analyses a ON a.media_id = m.id AND a.model_id = " + q.P(Param::Int(p.model_id)));
  q.Add(" CROSS JOIN LATERAL (SELECT MAX(d.score) AS best FROM detections d WHERE d.media_id = m.id AND " +
        Scoring(q, p) + ") b WHERE m.gone = 0 AND b.best > 0");
  AddConditions(q, p);
  if (from.kind) {
    q.Add(" AND (b.best, m.id) < (" + q.P(Param::Real(from.score)) + ", " + q.P(Param::Int(from.id)) + ")");
  }
  q.Add(" ORDER BY b.best DESC, m.id DESC LIMIT " + q.P(Param::Int(want)));
  return RunRows(conn, q, true, rows);
}

// Candidates a score walk reads before it gathers instead (0: 16 pages, or 2 with a folder
// filter, which usually keeps few files; measured at 100,000 photos, docs/performance.md). Tests
// lower it to take both ways.
std::atomic<int> walk_max_for_tests{0};

// Score order, files with a scoring detection: the walk while it finds files, then, if more
// than walk_max candidates gave less than a page, one gathering query for the rest (from the
// walk's position: every file scoring above it was met there).
Status ScorePage(Connection& conn, const Plan& p, const MediaCursor& cursor, int want, std::vector<Row>* rows) {
  std::vector<ScoreWalk> walks;
  if (p.labels.empty()) {
    walks.emplace_back(p, nullptr, cursor);
  } else {
    for (const auto& label : p.labels) walks.emplace_back(p, &label, cursor);
  }
  int chunk = std::max(want, 32);
  constexpr int kChunkMax = 8192;
  std::pair<int64_t, double> last{0, -1};  // the same file met by another label's walk comes next
  const int walk_max = walk_max_for_tests > 0 ? walk_max_for_tests.load() : (p.folder_like.empty() ? 16 : 2) * want;
  int walked = 0;
  while (static_cast<int>(rows->size()) < want) {
    if (walked >= walk_max) {
      MediaCursor from;
      from.kind = 's', from.score = last.second, from.id = last.first;
      return ScoreGatherPage(conn, p, from, want - static_cast<int>(rows->size()), rows);
    }
    std::vector<std::pair<int64_t, double>> batch;
    while (static_cast<int>(batch.size()) < chunk) {
      ScoreWalk* top = nullptr;
      for (auto& w : walks) {
        auto has = w.Peek(conn, chunk);
        if (!has.ok()) return has.status();
        if (*has && (!top || w.score() > top->score() || (w.score() == top->score() && w.id() > top->id()))) {
          top = &w;
        }
      }
      if (!top) break;
      if (last.first != top->id() || last.second != top->score()) {
        last = {top->id(), top->score()};
        batch.push_back(last);
      }
      top->Pop();
    }
    if (batch.empty()) break;
    walked += static_cast<int>(batch.size());
    MDX_RETURN_IF_ERROR(CheckCandidates(conn, p, batch, want, rows));
    chunk = std::min(chunk * 2, kChunkMax);  // few passed: read further ahead
  }
  return Status::Ok();
}

// Score order, files without a scoring detection (best 0), by id, newest first.
Status ZeroScorePage(Connection& conn, const Plan& p, const MediaCursor& cursor, int want, std::vector<Row>* rows) {
  Sql q;
  q.Add(std::string("SELECT ") + kItemColumns + " FROM media m");
  q.Add(" LEFT JOIN analyses a ON a.media_id = m.id AND a.model_id = " + q.P(Param::Int(p.model_id)));
  q.Add(" WHERE m.gone = 0");
  AddConditions(q, p);
  q.Add(" AND NOT EXISTS (SELECT 1 FROM detections d WHERE d.media_id = m.id AND " + Scoring(q, p) + ")");
  if (cursor.kind && cursor.score == 0) q.Add(" AND m.id < " + q.P(Param::Int(cursor.id)));
  q.Add(" ORDER BY m.id DESC LIMIT " + q.P(Param::Int(want)));
  return RunRows(conn, q, false, rows);
}

// Every row's labels (at least min_score, best first) and best score, in one query.
Status FillLabels(Connection& conn, const Plan& p, std::vector<Row>* rows) {
  if (rows->empty()) return Status::Ok();
  std::vector<int64_t> ids;
  std::unordered_map<int64_t, Row*> by_id;
  for (Row& row : *rows) {
    ids.push_back(row.item.id);
    by_id[row.item.id] = &row;
  }
  Sql q;
  q.Add("SELECT d.media_id, MIN(d.label), lower(d.label), MAX(d.score) AS best FROM detections d WHERE d.model_id = " +
        q.P(Param::Int(p.model_id)) + " AND d.media_id = ANY(" + q.P(IdArray(ids)) + "::bigint[])");
  q.Add(" GROUP BY d.media_id, lower(d.label) HAVING MAX(d.score) >= " + q.P(Param::Real(p.min_score)));
  q.Add(" ORDER BY d.media_id, best DESC, lower(d.label) COLLATE \"C\"");
  auto r = conn.Query(q.text, q.params);
  if (!r.ok()) return r.status();
  for (auto& [id, row] : by_id) row->item.best_score = 0;
  for (int i = 0; i < r->rows(); ++i) {
    auto it = by_id.find(r->Int(i, 0));
    if (it == by_id.end()) continue;
    MediaItem& item = it->second->item;
    item.labels.push_back(r->Text(i, 1));
    const double score = r->Real(i, 3);
    const bool counts = p.labels.empty() || std::count(p.labels.begin(), p.labels.end(), LowerAscii(r->Text(i, 2)));
    if (counts && score > item.best_score) item.best_score = static_cast<float>(score);
  }
  return Status::Ok();
}

}  // namespace

void SetScoreWalkMaxForTests(int candidates) { walk_max_for_tests = candidates; }

Result<MediaPage> PostgresCatalog::ListMedia(const MediaFilter& filter) {
  if (!filter.status.empty() && filter.status != "done" && filter.status != "failed" && filter.status != "pending") {
    return InvalidArgument("status must be done, failed or pending, not '" + filter.status + "'");
  }
  const bool by_date = filter.sort == MediaSort::kDate;
  MediaCursor cursor;
  if (!filter.cursor.empty() && !DecodeCursor(filter.cursor, by_date ? 'd' : 's', &cursor)) {
    return InvalidArgument("cursor is not one this listing made (was the sort changed?)");
  }
  const int limit = filter.limit > 0 ? filter.limit : 100;
  const int want = limit + 1;  // one more than a page tells whether another follows
  std::vector<Row> rows;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    rows.clear();
    auto model = ResolveModel(*conn_, filter.model_id);
    if (!model.ok()) return model.status();
    Plan p = MakePlan(filter, *model);
    if (!p.folder_like.empty()) {
      MDX_RETURN_IF_ERROR(MatchFolders(*conn_, &p));
      if (p.folders.empty()) return Status::Ok();  // no folder matches: nothing to list
    }
    if (by_date) {
      MDX_RETURN_IF_ERROR(DatePage(*conn_, p, cursor, want, &rows));
    } else {
      if (!cursor.kind || cursor.score > 0) MDX_RETURN_IF_ERROR(ScorePage(*conn_, p, cursor, want, &rows));
      // A file can score 0 only when no label or score filter demands a detection.
      if (p.min_score <= 0 && static_cast<int>(rows.size()) < want) {
        MDX_RETURN_IF_ERROR(ZeroScorePage(*conn_, p, cursor, want - static_cast<int>(rows.size()), &rows));
      }
    }
    return FillLabels(*conn_, p, &rows);
  });
  if (!status.ok()) return status.WithContext(conn_->name() + ": listing media");

  MediaPage page;
  if (static_cast<int>(rows.size()) > limit) {
    rows.resize(limit);
    const Row& last = rows.back();
    MediaCursor next;
    next.kind = by_date ? 'd' : 's';
    next.time = last.item.capture_time;
    next.score = last.score;  // the stored double, not the item's float: it must compare equal
    next.id = last.item.id;
    page.next_cursor = EncodeCursor(next);
  }
  for (Row& row : rows) page.items.push_back(std::move(row.item));
  return page;
}

Result<MediaDetail> PostgresCatalog::GetMedia(int64_t id, int64_t model_id) {
  MediaDetail detail;
  bool found = false;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    detail = {};
    auto model = ResolveModel(*conn_, model_id);
    if (!model.ok()) return model.status();
    Sql q;
    q.Add(std::string("SELECT ") + kItemColumns + " FROM media m");
    q.Add(" LEFT JOIN analyses a ON a.media_id = m.id AND a.model_id = " + q.P(Param::Int(*model)));
    q.Add(" WHERE m.id = " + q.P(Param::Int(id)) + " AND m.gone = 0");
    auto r = conn_->Query(q.text, q.params);
    if (!r.ok()) return r.status();
    found = r->rows() > 0;
    if (!found) return Status::Ok();
    detail.item = ReadItem(*r, 0);
    auto dets = conn_->Query(
        "SELECT label, class_id, score, x1, y1, x2, y2, time_s FROM detections WHERE media_id = $1 AND model_id = $2 "
        "ORDER BY time_s, score DESC, id",
        {Param::Int(id), Param::Int(*model)});
    if (!dets.ok()) return dets.status();
    for (int i = 0; i < dets->rows(); ++i) {
      StoredDetection d;
      d.detection.label = dets->Text(i, 0);
      d.detection.class_id = static_cast<int>(dets->Int(i, 1));
      d.detection.score = static_cast<float>(dets->Real(i, 2));
      d.detection.box = {static_cast<float>(dets->Real(i, 3)), static_cast<float>(dets->Real(i, 4)),
                         static_cast<float>(dets->Real(i, 5)), static_cast<float>(dets->Real(i, 6))};
      d.time_s = dets->Real(i, 7);
      detail.item.best_score = std::max(detail.item.best_score, d.detection.score);
      detail.detections.push_back(std::move(d));
    }
    auto labels = conn_->Query(
        "SELECT MIN(label), MAX(score) AS best FROM detections WHERE media_id = $1 AND model_id = $2 "
        "GROUP BY lower(label) HAVING MAX(score) >= 0 ORDER BY best DESC, lower(label) COLLATE \"C\"",
        {Param::Int(id), Param::Int(*model)});
    if (!labels.ok()) return labels.status();
    for (int i = 0; i < labels->rows(); ++i) detail.item.labels.push_back(labels->Text(i, 0));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  if (!found) return NotFound("no media with id " + std::to_string(id));
  return detail;
}

Result<std::vector<LabelCount>> PostgresCatalog::Labels(const std::string& prefix, int limit, int64_t model_id) {
  std::vector<LabelCount> out;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    out.clear();
    auto model = ResolveModel(*conn_, model_id);
    if (!model.ok()) return model.status();
    // Files per label: present files with a detection of it (SQLite counts media_labels rows).
    Sql q;
    q.Add(
        "SELECT MIN(d.label), COUNT(DISTINCT d.media_id) AS files FROM detections d JOIN media m ON m.id = d.media_id");
    q.Add(" WHERE d.model_id = " + q.P(Param::Int(*model)) + " AND m.gone = 0");
    if (!prefix.empty()) {
      // Case-insensitive, as SQLite's LIKE: the lowered label against the lowered prefix.
      q.Add(" AND lower(d.label) LIKE lower(" + q.P(Param::Text(LikeLiteral(prefix) + "%")) + ") ESCAPE '\\'");
    }
    q.Add(" GROUP BY lower(d.label) ORDER BY files DESC, lower(d.label) COLLATE \"C\" LIMIT " +
          q.P(Param::Int(limit > 0 ? limit : 10)));
    auto r = conn_->Query(q.text, q.params);
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) out.push_back({r->Text(i, 0), r->Int(i, 1)});
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

Result<ErrorPage> PostgresCatalog::ErrorsPage(int64_t model_id, int limit, const std::string& cursor) {
  std::string after;
  if (!cursor.empty()) {
    std::string raw;
    if (!Unhex(cursor, &raw) || raw.rfind("e|", 0) != 0) return InvalidArgument("cursor is not one this listing made");
    after = raw.substr(2);
  }
  if (limit <= 0) limit = 100;
  ErrorPage page;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    page = {};
    auto model = ResolveModel(*conn_, model_id);
    if (!model.ok()) return model.status();
    Sql q;
    q.Add("SELECT m.id, m.path, a.error FROM analyses a JOIN media m ON m.id = a.media_id WHERE a.model_id = " +
          q.P(Param::Int(*model)));
    q.Add(" AND a.status = 'failed' AND m.gone = 0 AND a.size = m.size AND a.mtime_ns = m.mtime_ns");
    if (!cursor.empty()) q.Add(" AND m.path > " + q.P(Param::Bytes(after)));
    q.Add(" ORDER BY m.path LIMIT " + q.P(Param::Int(static_cast<int64_t>(limit) + 1)));
    auto r = conn_->Query(q.text, q.params);
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) page.items.push_back({r->Int(i, 0), r->Bytes(i, 1), r->Bytes(i, 2)});
    return Status::Ok();
  });
  if (!status.ok()) return status;
  if (static_cast<int>(page.items.size()) > limit) {
    page.items.resize(limit);
    page.next_cursor = Hex("e|" + page.items.back().path);
  }
  return page;
}

}  // namespace mediadex::catalog::postgres
