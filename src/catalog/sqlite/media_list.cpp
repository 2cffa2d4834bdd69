// ListMedia on SQLite: a filtered, keyset-paged media list that reads about one page of rows.
//
// Date order walks an index: media_capture (newest first) when the filter is broad, or, when a
// folder or label filter matches few files (under 5000), just those files, then sorts them.
// Score order with labels merges one media_labels index walk per label (best score first) and
// checks each file the walk meets; a file is taken where it meets its best, so it comes once.
// Files with no matching detection (best 0) follow, newest id first. Values are bound, never
// spliced; only the SQL's shape varies.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <memory>
#include <unordered_set>

#include "catalog/sqlite/gallery_sql.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/sqlite/statement.h"

namespace mediadex::catalog::sqlite {
namespace {

// A filter matching fewer files than this is read whole and sorted (a few ms) rather than
// found by walking every file in date order. Tests lower it to walk both ways.
std::atomic<int64_t> gather_max{5000};

// SQLite's NOCASE: ASCII letters only.
std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The filter, resolved once.
struct Plan {
  int64_t model_id = 0;
  double min_score = 0;
  std::vector<std::string> labels;               // every label of every group, lower case, distinct
  std::vector<std::vector<std::string>> groups;  // lower case, empty groups dropped
  std::string folder_like;                       // LIKE pattern over folders.path; "" = any folder
  std::unordered_set<int64_t> folder_ids;        // the folders it matches
  int64_t after = 0, before = 0;
  std::string status;
};

// One file's labels for the plan's model (lower case) with their best scores.
using LabelScores = std::vector<std::pair<std::string, double>>;

// The file's best among the plan's labels (any label without them), at least min_score; 0 if none.
double BestOf(const Plan& p, const LabelScores& labels) {
  double best = 0;
  for (const auto& [label, score] : labels) {
    if (score >= p.min_score && (p.labels.empty() || Contains(p.labels, label))) best = std::max(best, score);
  }
  return best;
}

bool GroupsMatch(const Plan& p, const LabelScores& labels) {
  for (const auto& group : p.groups) {
    bool any = false;
    for (const auto& [label, score] : labels) any = any || (score >= p.min_score && Contains(group, label));
    if (!any) return false;
  }
  if (p.groups.empty() && p.min_score > 0) {
    bool any = false;
    for (const auto& ls : labels) any = any || ls.second >= p.min_score;
    return any;
  }
  return true;
}

// " AND ..." for every filter but the sort, over `media m LEFT JOIN analyses a`.
void AddConditions(Query& q, const Plan& p) {
  for (const auto& group : p.groups) {
    q.Add(" AND EXISTS (SELECT 1 FROM media_labels l WHERE l.media_id = m.id AND l.model_id = ?", p.model_id);
    q.Add(" AND l.label IN (" + Placeholders(group.size()) + ")");
    for (const auto& l : group) q.binds.push_back(l);
    q.Add(" AND l.best_score >= ?)", p.min_score);
  }
  if (p.groups.empty() && p.min_score > 0) {
    q.Add(" AND EXISTS (SELECT 1 FROM media_labels l WHERE l.media_id = m.id AND l.model_id = ?", p.model_id);
    q.Add(" AND l.best_score >= ?)", p.min_score);
  }
  if (!p.folder_like.empty()) {
    q.Add(" AND m.folder_id IN (SELECT id FROM folders WHERE path LIKE ? ESCAPE '\\')", p.folder_like);
  }
  if (p.after != 0) q.Add(" AND m.capture_time >= ?", p.after);
  if (p.before != 0) q.Add(" AND m.capture_time < ? AND m.capture_time <> 0", p.before);
  if (!p.status.empty()) q.Add(std::string(" AND ") + kStatusExpr + " = ?", p.status);
}

Result<int64_t> CountUpTo(Connection& conn, const Query& inner) {
  Query q;
  q.sql = "SELECT COUNT(*) FROM (" + inner.sql + " LIMIT " + std::to_string(gather_max.load()) + ")";
  q.binds = inner.binds;
  int64_t n = 0;
  MDX_RETURN_IF_ERROR(ForEachRow(conn, q, [&](const Stmt& s) { n = s.Int(0); }));
  return n;
}

// Which way a date-ordered page finds its files.
enum class Driver { kCaptureIndex, kFolders, kLabels };

struct DateDriver {
  Driver driver = Driver::kCaptureIndex;
  size_t group = 0;  // kLabels: the group with the fewest files
};

Result<DateDriver> ChooseDateDriver(Connection& conn, const Plan& p) {
  DateDriver best;
  int64_t fewest = gather_max.load();
  if (!p.folder_like.empty()) {
    Query q;
    q.Add(
        "SELECT 1 FROM media m INDEXED BY media_folder WHERE m.gone = 0 AND m.folder_id IN "
        "(SELECT id FROM folders WHERE path LIKE ? ESCAPE '\\')",
        p.folder_like);
    auto n = CountUpTo(conn, q);
    if (!n.ok()) return n.status();
    if (*n < fewest) fewest = *n, best.driver = Driver::kFolders;
  }
  for (size_t g = 0; g < p.groups.size(); ++g) {
    Query q;
    q.Add("SELECT 1 FROM media_labels WHERE model_id = ?", p.model_id);
    q.Add(" AND label IN (" + Placeholders(p.groups[g].size()) + ")");
    for (const auto& l : p.groups[g]) q.binds.push_back(l);
    q.Add(" AND best_score >= ?", p.min_score);
    auto n = CountUpTo(conn, q);
    if (!n.ok()) return n.status();
    if (*n < fewest) fewest = *n, best.driver = Driver::kLabels, best.group = g;
  }
  return best;
}

// The page's rows before labels are filled: the item and its sort key.
struct Row {
  MediaItem item;
  double score = 0;
};

// The items of `ids`, in that order.
Status FetchItems(Connection& conn, const Plan& p, const std::vector<int64_t>& ids, std::vector<Row>* rows) {
  if (ids.empty()) return Status::Ok();
  Query q;
  q.Add("SELECT ").Add(kItemColumns).Add(" FROM media m");
  q.Add(" LEFT JOIN analyses a ON a.media_id = m.id AND a.model_id = ?", p.model_id);
  q.Add(" WHERE m.id IN (" + Placeholders(ids.size()) + ")");
  for (int64_t id : ids) q.binds.push_back(id);
  std::map<int64_t, MediaItem> items;
  MDX_RETURN_IF_ERROR(ForEachRow(conn, q, [&](const Stmt& s) {
    MediaItem item = ReadItem(s);
    items.emplace(item.id, std::move(item));
  }));
  for (int64_t id : ids) {
    auto it = items.find(id);
    if (it != items.end()) rows->push_back({std::move(it->second), 0});
  }
  return Status::Ok();
}

Status DatePage(Connection& conn, const Plan& p, const MediaCursor& cursor, int want, std::vector<Row>* rows) {
  auto driver = ChooseDateDriver(conn, p);
  if (!driver.ok()) return driver.status();
  // INDEXED BY / NOT INDEXED pin the plan chosen above: SQLite has no statistics per label or
  // folder, and its guess for a folder filter was to walk every file in date order.
  const char* access = " INDEXED BY media_capture";
  if (driver->driver == Driver::kFolders) access = " INDEXED BY media_folder";
  if (driver->driver == Driver::kLabels) access = " NOT INDEXED";  // rowid lookups of the label's files
  // Ids first, items after: a gathered filter sorts a few thousand (time, id) pairs, not rows.
  Query q;
  q.Add("SELECT m.id FROM media m").Add(access);
  if (!p.status.empty()) q.Add(" LEFT JOIN analyses a ON a.media_id = m.id AND a.model_id = ?", p.model_id);
  q.Add(" WHERE m.gone = 0");
  if (driver->driver == Driver::kLabels) {
    const auto& group = p.groups[driver->group];
    q.Add(" AND m.id IN (SELECT media_id FROM media_labels WHERE model_id = ?", p.model_id);
    q.Add(" AND label IN (" + Placeholders(group.size()) + ")");
    for (const auto& l : group) q.binds.push_back(l);
    q.Add(" AND best_score >= ?)", p.min_score);
  }
  AddConditions(q, p);
  if (cursor.kind) {
    // Newest first; unknown dates (0) sort last on their own. The <= bounds the index walk.
    q.Add(" AND m.capture_time <= ?", cursor.time).Add(" AND (m.capture_time < ?", cursor.time);
    q.Add(" OR m.id < ?)", cursor.id);
  }
  q.Add(" ORDER BY m.capture_time DESC, m.id DESC LIMIT ?", static_cast<int64_t>(want));
  std::vector<int64_t> ids;
  MDX_RETURN_IF_ERROR(ForEachRow(conn, q, [&](const Stmt& s) { ids.push_back(s.Int(0)); }));
  return FetchItems(conn, p, ids, rows);
}

// One media_labels index walk, best score first, from the cursor on.
class ScoreWalk {
 public:
  ScoreWalk(Connection& conn, const Plan& p, const std::string* label, const MediaCursor& cursor, size_t tag) {
    Query q;
    if (label) {
      q.Add("SELECT media_id, best_score FROM media_labels INDEXED BY media_labels_by_label WHERE model_id = ?",
            p.model_id);
      q.Add(" AND label = ?", *label);
    } else {
      q.Add("SELECT media_id, best_score FROM media_labels INDEXED BY media_labels_by_score WHERE model_id = ?",
            p.model_id);
    }
    q.Add(" AND best_score >= ? AND best_score > 0", p.min_score);
    if (cursor.kind) {
      q.Add(" AND best_score <= ?", cursor.score).Add(" AND (best_score < ?", cursor.score);
      q.Add(" OR media_id < ?)", cursor.id);
    }
    // Walks run side by side: each needs its own statement, and the cache is keyed by text.
    q.Add(" ORDER BY best_score DESC, media_id DESC -- walk " + std::to_string(tag));
    sqlite3_stmt* raw = nullptr;
    if (!conn.Prepare(q.sql, &raw, &status_)) return;
    stmt_ = std::make_unique<Stmt>(raw, conn.db(), &conn.path());
    q.BindAll(*stmt_);
    Next();
  }
  bool has() const { return has_; }
  int64_t id() const { return id_; }
  double score() const { return score_; }
  const Status& status() const { return status_; }
  void Next() {
    has_ = stmt_ && stmt_->Step(&status_);
    if (has_) id_ = stmt_->Int(0), score_ = stmt_->Real(1);
  }

 private:
  std::unique_ptr<Stmt> stmt_;
  Status status_;
  bool has_ = false;
  int64_t id_ = 0;
  double score_ = 0;
};

Status FileLabels(Connection& conn, int64_t model_id, int64_t id, LabelScores* out) {
  Query q;
  q.Add("SELECT label, best_score FROM media_labels WHERE media_id = ?", id).Add(" AND model_id = ?", model_id);
  out->clear();
  return ForEachRow(conn, q, [&](const Stmt& s) { out->emplace_back(Lower(s.Text(0)), s.Real(1)); });
}

// The file if it passes the filters media_labels does not know (gone, folder, dates, status).
Status FileIfShown(Connection& conn, const Plan& p, int64_t id, std::vector<Row>* rows, double score) {
  Query q;
  q.Add("SELECT ").Add(kItemColumns).Add(", m.folder_id FROM media m");
  q.Add(" LEFT JOIN analyses a ON a.media_id = m.id AND a.model_id = ?", p.model_id);
  q.Add(" WHERE m.id = ? AND m.gone = 0", id);
  return ForEachRow(conn, q, [&](const Stmt& s) {
    MediaItem item = ReadItem(s);
    if (!p.folder_like.empty() && !p.folder_ids.count(s.Int(11))) return;
    if (p.after != 0 && item.capture_time < p.after) return;
    if (p.before != 0 && (item.capture_time >= p.before || item.capture_time == 0)) return;
    if (!p.status.empty() && p.status != AnalysisStatusName(item.status)) return;
    rows->push_back({std::move(item), score});
  });
}

// Score order, files with a matching detection: merges the walks.
Status ScoreWalkPage(Connection& conn, const Plan& p, const MediaCursor& cursor, int want, std::vector<Row>* rows) {
  std::vector<std::unique_ptr<ScoreWalk>> walks;
  if (p.labels.empty()) {
    walks.push_back(std::make_unique<ScoreWalk>(conn, p, nullptr, cursor, 0));
  } else {
    for (size_t i = 0; i < p.labels.size(); ++i)
      walks.push_back(std::make_unique<ScoreWalk>(conn, p, &p.labels[i], cursor, i));
  }
  int64_t last_id = 0;
  double last_score = -1;
  LabelScores labels;
  while (static_cast<int>(rows->size()) < want) {
    ScoreWalk* top = nullptr;
    for (auto& w : walks) {
      MDX_RETURN_IF_ERROR(w->status());
      if (w->has() && (!top || w->score() > top->score() || (w->score() == top->score() && w->id() > top->id())))
        top = w.get();
    }
    if (!top) break;
    const int64_t id = top->id();
    const double score = top->score();
    top->Next();
    if (id == last_id && score == last_score) continue;  // the same file met by another label's walk
    last_id = id, last_score = score;
    MDX_RETURN_IF_ERROR(FileLabels(conn, p.model_id, id, &labels));
    // Met below its best: it was (or will not be) taken where it scores best.
    if (BestOf(p, labels) != score || !GroupsMatch(p, labels)) continue;
    MDX_RETURN_IF_ERROR(FileIfShown(conn, p, id, rows, score));
  }
  return Status::Ok();
}

// Score order, files without a matching detection (best 0), by id, newest first.
Status ZeroScorePage(Connection& conn, const Plan& p, const MediaCursor& cursor, int want, std::vector<Row>* rows) {
  Query q;
  q.Add("SELECT ").Add(kItemColumns).Add(" FROM media m");
  q.Add(" LEFT JOIN analyses a ON a.media_id = m.id AND a.model_id = ?", p.model_id);
  q.Add(" WHERE m.gone = 0");
  if (!p.labels.empty()) {
    // With labels, a file scores 0 only through a detection of score 0: look those up, not every file.
    q.Add(" AND m.id IN (SELECT media_id FROM media_labels WHERE model_id = ?", p.model_id);
    q.Add(" AND label IN (" + Placeholders(p.labels.size()) + ")");
    for (const auto& l : p.labels) q.binds.push_back(l);
    q.Add(" AND best_score <= 0)");
  }
  AddConditions(q, p);
  q.Add(" AND NOT EXISTS (SELECT 1 FROM media_labels l WHERE l.media_id = m.id AND l.model_id = ?", p.model_id);
  if (!p.labels.empty()) {
    q.Add(" AND l.label IN (" + Placeholders(p.labels.size()) + ")");
    for (const auto& l : p.labels) q.binds.push_back(l);
  }
  q.Add(" AND l.best_score >= ? AND l.best_score > 0)", p.min_score);
  if (cursor.kind && cursor.score == 0) q.Add(" AND m.id < ?", cursor.id);
  q.Add(" ORDER BY m.id DESC LIMIT ?", static_cast<int64_t>(want));
  return ForEachRow(conn, q, [&](const Stmt& s) { rows->push_back({ReadItem(s), 0}); });
}

// Every row's labels (at least min_score, best first) and best score, in one query.
Status FillLabels(Connection& conn, const Plan& p, std::vector<Row>* rows) {
  if (rows->empty()) return Status::Ok();
  std::map<int64_t, std::pair<Row*, LabelScores>> by_id;
  Query q;
  q.Add("SELECT media_id, label, best_score FROM media_labels WHERE model_id = ?", p.model_id)
      .Add(" AND best_score >= ?", p.min_score)
      .Add(" AND media_id IN (" + Placeholders(rows->size()) + ")");
  for (Row& row : *rows) {
    q.binds.push_back(row.item.id);
    by_id[row.item.id].first = &row;
  }
  q.Add(" ORDER BY media_id, best_score DESC, label");
  MDX_RETURN_IF_ERROR(ForEachRow(conn, q, [&](const Stmt& s) {
    auto it = by_id.find(s.Int(0));
    if (it == by_id.end()) return;
    it->second.first->item.labels.push_back(s.Text(1));
    it->second.second.emplace_back(Lower(s.Text(1)), s.Real(2));
  }));
  for (auto& [id, entry] : by_id) entry.first->item.best_score = static_cast<float>(BestOf(p, entry.second));
  return Status::Ok();
}

Result<Plan> MakePlan(Connection& conn, const MediaFilter& filter, int64_t model_id) {
  Plan p;
  p.model_id = model_id;
  p.min_score = filter.min_score;
  for (const auto& group : filter.label_groups) {
    std::vector<std::string> g;
    for (const auto& l : group) {
      if (l.empty() || Contains(g, Lower(l))) continue;
      g.push_back(Lower(l));
      if (!Contains(p.labels, g.back())) p.labels.push_back(g.back());
    }
    if (!g.empty()) p.groups.push_back(std::move(g));
  }
  std::string folder = filter.folder;
  while (!folder.empty() && folder.front() == '/') folder.erase(0, 1);
  while (!folder.empty() && folder.back() == '/') folder.pop_back();
  if (!folder.empty()) {
    // folders.path ends with '/', so "%/a/b/%" finds a/b as a run of whole components anywhere.
    p.folder_like = "%/" + LikeLiteral(folder) + "/%";
    Query q;
    q.Add("SELECT id FROM folders WHERE path LIKE ? ESCAPE '\\'", p.folder_like);
    MDX_RETURN_IF_ERROR(ForEachRow(conn, q, [&](const Stmt& s) { p.folder_ids.insert(s.Int(0)); }));
  }
  p.after = filter.after;
  p.before = filter.before;
  p.status = filter.status;
  return p;
}

}  // namespace

void SetGatherMaxForTests(int64_t files) { gather_max = files; }

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
  auto plan = MakePlan(*conn_, filter, *model);
  if (!plan.ok()) return plan.status().WithContext(path + ": listing media");
  const Plan& p = *plan;

  std::vector<Row> rows;
  const int want = limit + 1;  // one more than a page tells whether another follows
  Status status;
  if (!p.folder_like.empty() && p.folder_ids.empty()) {
    // No folder matches: nothing to list.
  } else if (by_date) {
    status = DatePage(*conn_, p, cursor, want, &rows);
  } else {
    if (!cursor.kind || cursor.score > 0) status = ScoreWalkPage(*conn_, p, cursor, want, &rows);
    // A file can score 0 only when no label or score filter demands a detection.
    const bool zero_possible = p.min_score <= 0;
    if (status.ok() && zero_possible && static_cast<int>(rows.size()) < want) {
      status = ZeroScorePage(*conn_, p, cursor, want - static_cast<int>(rows.size()), &rows);
    }
  }
  if (status.ok()) status = FillLabels(*conn_, p, &rows);
  if (!status.ok()) return status.WithContext(path + ": listing media");

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

}  // namespace mediadex::catalog::sqlite
