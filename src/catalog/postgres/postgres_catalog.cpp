#include "catalog/postgres/postgres_catalog.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <exception>
#include <functional>
#include <unordered_map>

#include "catalog/postgres/pg_read.h"
#include "catalog/postgres/pg_schema.h"

namespace mediadex::catalog::postgres {
namespace {

int64_t NowSeconds() { return static_cast<int64_t>(std::time(nullptr)); }

const char* KindText(MediaKind kind) { return kind == MediaKind::kVideo ? "video" : "image"; }
MediaKind KindFrom(const std::string& text) { return text == "video" ? MediaKind::kVideo : MediaKind::kImage; }

// SQLite's NOCASE folds ASCII only; so do we before comparing labels in C++.
std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// LIMIT $n: NULL means no limit, as SQLite's -1 does.
Param LimitParam(int64_t limit) { return limit > 0 ? Param::Int(limit) : Param::Null(); }

// Columns: label, class_id, score, x1, y1, x2, y2, time_s starting at `col`.
StoredDetection ReadDetection(const PgResult& r, int row, int col) {
  StoredDetection out;
  out.detection.label = r.Text(row, col);
  out.detection.class_id = static_cast<int>(r.Int(row, col + 1));
  out.detection.score = static_cast<float>(r.Real(row, col + 2));
  out.detection.box = {static_cast<float>(r.Real(row, col + 3)), static_cast<float>(r.Real(row, col + 4)),
                       static_cast<float>(r.Real(row, col + 5)), static_cast<float>(r.Real(row, col + 6))};
  out.time_s = r.Real(row, col + 7);
  return out;
}

constexpr const char* kDetectionColumns = "d.label, d.class_id, d.score, d.x1, d.y1, d.x2, d.y2, d.time_s";
constexpr const char* kMediaColumns = "id, path, size, mtime_ns, content_hash, gone, kind";

MediaRow ReadMedia(const PgResult& r, int row) {
  MediaRow m;
  m.id = r.Int(row, 0);
  m.path = r.Bytes(row, 1);
  m.size = static_cast<uint64_t>(r.Int(row, 2));
  m.mtime_ns = r.Int(row, 3);
  m.content_hash = r.Text(row, 4);
  m.gone = r.Int(row, 5) != 0;
  m.kind = KindFrom(r.Text(row, 6));
  return m;
}

Result<std::vector<MediaRow>> MediaRows(Connection& conn, const std::string& sql, const std::vector<Param>& params) {
  auto r = conn.Query(sql, params);
  if (!r.ok()) return r.status();
  std::vector<MediaRow> rows;
  rows.reserve(static_cast<size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) rows.push_back(ReadMedia(*r, i));
  return rows;
}

// A result that is current: computed for the file's present size and mtime.
constexpr const char* kCurrent = "a.size = m.size AND a.mtime_ns = m.mtime_ns";

constexpr int kTopLabels = 10;

}  // namespace

PostgresCatalog::~PostgresCatalog() = default;

Result<std::unique_ptr<PostgresCatalog>> PostgresCatalog::Open(const std::string& url) {
  auto conn = Connection::Connect(url, "mediadex");
  if (!conn.ok()) return conn.status();
  int64_t version = 0;
  // Read-only first: a foreign or newer database is refused before anything is written.
  MDX_RETURN_IF_ERROR(CheckCatalog(**conn, &version));
  if (version < LatestSchemaVersion()) MDX_RETURN_IF_ERROR(Migrate(**conn));
  return std::unique_ptr<PostgresCatalog>(new PostgresCatalog(std::move(conn).value()));
}

Result<int64_t> PostgresCatalog::RegisterModel(const ModelKey& model) {
  if (model.name.empty()) return InvalidArgument(conn_->name() + ": model name is empty");
  int64_t id = 0;
  Status status = InTransaction(*conn_, kWrite, [&]() -> Status {
    const std::vector<Param> key = {Param::Text(model.name), Param::Text(model.version), Param::Text(model.settings)};
    MDX_RETURN_IF_ERROR(conn_
                            ->Query("INSERT INTO models (name, version, settings, created_at) VALUES ($1, $2, $3, $4) "
                                    "ON CONFLICT (name, version, settings) DO NOTHING",
                                    {key[0], key[1], key[2], Param::Int(NowSeconds())})
                            .status());
    auto found = conn_->QueryInt("SELECT id FROM models WHERE name = $1 AND version = $2 AND settings = $3", key);
    if (!found.ok()) return found.status();
    id = *found;
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return id;
}

Result<int64_t> PostgresCatalog::BeginRun(const RunInfo& run) {
  std::string roots;
  for (const auto& r : run.roots) roots += (roots.empty() ? "" : "\n") + r;
  auto id = conn_->QueryInt(
      "INSERT INTO runs (model_id, device, settings, roots, started_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
      {Param::Int(run.model_id), Param::Text(run.device), Param::Text(run.settings), Param::Bytes(roots),
       Param::Int(NowSeconds())});
  if (!id.ok()) return id.status().WithContext("model id " + std::to_string(run.model_id));
  return id;
}

Status PostgresCatalog::FinishRun(int64_t run_id, const RunCounts& counts) {
  auto r = conn_->Query("UPDATE runs SET finished_at = $1, done = $2, failed = $3, skipped = $4 WHERE id = $5",
                        {Param::Int(NowSeconds()), Param::Int(counts.done), Param::Int(counts.failed),
                         Param::Int(counts.skipped), Param::Int(run_id)});
  if (!r.ok()) return r.status();
  if (r->affected() == 0) return NotFound(conn_->name() + ": no run " + std::to_string(run_id));
  return Status::Ok();
}

Result<std::vector<MediaRow>> PostgresCatalog::LoadFileIndex() {
  return MediaRows(*conn_, std::string("SELECT ") + kMediaColumns + " FROM media WHERE gone = 0", {});
}

Result<std::vector<MediaRow>> PostgresCatalog::FindGoneByHash(const std::string& content_hash) {
  if (content_hash.empty()) return std::vector<MediaRow>();  // "" means "not hashed yet": never a match
  return MediaRows(
      *conn_, std::string("SELECT ") + kMediaColumns + " FROM media WHERE gone = 1 AND content_hash = $1 ORDER BY id",
      {Param::Text(content_hash)});
}

Status PostgresCatalog::ApplyScan(const ScanChanges& changes) {
  auto missing = [&](int64_t id, const char* what) {
    return NotFound(conn_->name() + ": " + what + ": media id " + std::to_string(id) + " is not in the catalog");
  };
  const int64_t now = NowSeconds();
  return InTransaction(*conn_, kWrite, [&]() -> Status {
    for (int64_t id : changes.gone) {
      auto r = conn_->Query("UPDATE media SET gone = 1 WHERE id = $1", {Param::Int(id)});
      if (!r.ok()) return r.status();
      if (r->affected() == 0) return missing(id, "gone");
    }
    for (const auto& [id, new_path] : changes.moved) {
      // A stale row already at the new path describes a file that is no longer there: the
      // moved file replaces it (its own results cascade away), the moved row keeps its id.
      MDX_RETURN_IF_ERROR(
          conn_->Query("DELETE FROM media WHERE path = $1 AND id <> $2", {Param::Bytes(new_path), Param::Int(id)})
              .status());
      auto r = conn_->Query("UPDATE media SET path = $1, gone = 0, last_seen = $2 WHERE id = $3",
                            {Param::Bytes(new_path), Param::Int(now), Param::Int(id)});
      if (!r.ok()) return r.status();
      if (r->affected() == 0) return missing(id, "moved");
    }
    // A path we knew (gone, or re-added) comes back on the same row; the hash stays only when
    // size and mtime still match, and results stay current on the same condition. Up to 1000
    // rows per statement (one round trip each: a first scan of a million files is 1000 of them,
    // not a million). One statement may not touch a row twice, so a path listed twice counts
    // once, with its last stat.
    std::unordered_map<std::string, size_t> last;
    for (size_t i = 0; i < changes.added.size(); ++i) last[changes.added[i].path] = i;
    std::vector<const FileStat*> added;
    for (size_t i = 0; i < changes.added.size(); ++i) {
      if (last[changes.added[i].path] == i) added.push_back(&changes.added[i]);
    }
    constexpr size_t kRowsPerUpsert = 1000;
    for (size_t start = 0; start < added.size(); start += kRowsPerUpsert) {
      const size_t end = std::min(added.size(), start + kRowsPerUpsert);
      std::vector<Param> params = {Param::Int(now)};
      std::string sql = "INSERT INTO media (path, size, mtime_ns, kind, first_seen, last_seen) VALUES ";
      for (size_t i = start; i < end; ++i) {
        const FileStat& file = *added[i];
        const std::string n = std::to_string(params.size() + 1);
        sql += (i == start ? "($" : ", ($") + n + ", $" + std::to_string(params.size() + 2) + ", $" +
               std::to_string(params.size() + 3) + ", $" + std::to_string(params.size() + 4) + ", $1, $1)";
        params.push_back(Param::Bytes(file.path));
        params.push_back(Param::Int(static_cast<int64_t>(file.size)));
        params.push_back(Param::Int(file.mtime_ns));
        params.push_back(Param::Text(KindText(file.kind)));
      }
      sql +=
          " ON CONFLICT (path) DO UPDATE SET "
          "content_hash = CASE WHEN media.size = excluded.size AND media.mtime_ns = excluded.mtime_ns "
          "THEN media.content_hash ELSE '' END, "
          "size = excluded.size, mtime_ns = excluded.mtime_ns, kind = excluded.kind, gone = 0, "
          "last_seen = excluded.last_seen";
      MDX_RETURN_IF_ERROR(conn_->Query(sql, params).status());
    }
    for (const auto& [id, file] : changes.changed) {
      // New bytes: the old hash no longer describes them (and must not match a move).
      auto r = conn_->Query(
          "UPDATE media SET size = $1, mtime_ns = $2, kind = $3, content_hash = '', gone = 0, last_seen = $4 "
          "WHERE id = $5",
          {Param::Int(static_cast<int64_t>(file.size)), Param::Int(file.mtime_ns), Param::Text(KindText(file.kind)),
           Param::Int(now), Param::Int(id)});
      if (!r.ok()) return r.status();
      if (r->affected() == 0) return missing(id, "changed");
    }
    return Status::Ok();
  });
}

Result<std::vector<MediaRow>> PostgresCatalog::PendingFor(int64_t model_id, int64_t limit) {
  if (model_id <= 0) return InvalidArgument(conn_->name() + ": PendingFor needs a model id");
  return MediaRows(*conn_,
                   std::string("SELECT ") + kMediaColumns +
                       " FROM media m WHERE gone = 0 AND NOT EXISTS (SELECT 1 FROM analyses a "
                       "WHERE a.media_id = m.id AND a.model_id = $1 AND a.status IN ('done', 'failed') AND " +
                       kCurrent + ") ORDER BY path LIMIT $2",
                   {Param::Int(model_id), LimitParam(limit)});
}

Status PostgresCatalog::CommitBatch(int64_t model_id, int64_t run_id, const std::vector<MediaResult>& results) {
  if (model_id <= 0) return InvalidArgument(conn_->name() + ": CommitBatch needs a model id");
  return InTransaction(*conn_, kWrite, [&]() { return WriteBatch(*conn_, model_id, run_id, results, insert_); });
}

Result<std::vector<SearchHit>> PostgresCatalog::Search(const SearchQuery& query) {
  // Labels compare case-insensitively (lower(label) against lower($i)), so dedupe the same way.
  std::vector<std::string> labels;
  for (const auto& label : query.labels) {
    bool seen = false;
    for (const auto& l : labels) seen = seen || Lower(l) == Lower(label);
    if (!seen && !label.empty()) labels.push_back(label);
  }
  if (labels.empty()) return InvalidArgument(conn_->name() + ": search needs at least one label");
  const bool by_model = query.model_id > 0;
  std::vector<Param> params;
  std::string filter = "lower(d.label) IN (";
  for (size_t i = 0; i < labels.size(); ++i) {
    params.push_back(Param::Text(labels[i]));
    filter += (i ? ", lower($" : "lower($") + std::to_string(params.size()) + ")";
  }
  params.push_back(Param::Real(static_cast<double>(query.score_min)));
  filter += ") AND d.score >= $" + std::to_string(params.size());
  if (by_model) {
    params.push_back(Param::Int(query.model_id));
    filter += " AND d.model_id = $" + std::to_string(params.size());
  }

  std::vector<SearchHit> hits;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    {
      std::vector<Param> p = params;
      std::string having;
      if (query.match_all) {
        p.push_back(Param::Int(static_cast<int64_t>(labels.size())));
        having = " HAVING COUNT(DISTINCT lower(d.label)) = $" + std::to_string(p.size());
      }
      p.push_back(LimitParam(query.limit));
      const std::string sql =
          "SELECT d.media_id, MAX(d.score) AS best, m.path, m.kind, m.width, m.height "
          "FROM detections d JOIN media m ON m.id = d.media_id WHERE m.gone = 0 AND " +
          filter + " GROUP BY d.media_id, m.path, m.kind, m.width, m.height" + having +
          " ORDER BY best DESC, d.media_id LIMIT $" + std::to_string(p.size());
      auto r = conn_->Query(sql, p);
      if (!r.ok()) return r.status();
      for (int i = 0; i < r->rows(); ++i) {
        SearchHit hit;
        hit.media_id = r->Int(i, 0);
        hit.best_score = static_cast<float>(r->Real(i, 1));
        hit.path = r->Bytes(i, 2);
        hit.kind = KindFrom(r->Text(i, 3));
        hit.width = static_cast<int>(r->Int(i, 4));
        hit.height = static_cast<int>(r->Int(i, 5));
        hits.push_back(std::move(hit));
      }
    }
    if (hits.empty()) return Status::Ok();
    // Matching detections of every hit in one query: a video's moments in time order, a
    // photo's best first.
    std::vector<Param> p = params;
    std::string ids;
    for (const SearchHit& hit : hits) ids += (ids.empty() ? "" : ",") + std::to_string(hit.media_id);
    p.push_back(Param::Text("{" + ids + "}"));
    auto r = conn_->Query(std::string("SELECT d.media_id, ") + kDetectionColumns + " FROM detections d WHERE " +
                              filter + " AND d.media_id = ANY($" + std::to_string(p.size()) +
                              "::bigint[]) ORDER BY d.media_id, d.time_s, d.score DESC, d.id",
                          p);
    if (!r.ok()) return r.status();
    std::unordered_map<int64_t, SearchHit*> by_id;
    for (SearchHit& hit : hits) by_id[hit.media_id] = &hit;
    for (int i = 0; i < r->rows(); ++i) {
      auto it = by_id.find(r->Int(i, 0));
      if (it != by_id.end()) it->second->matches.push_back(ReadDetection(*r, i, 1));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return hits;
}

Result<StatusSummary> PostgresCatalog::Summary(int64_t model_id) {
  StatusSummary summary;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    auto model = ResolveModel(*conn_, model_id);
    if (!model.ok()) return model.status();
    {
      auto r = conn_->Query("SELECT COUNT(*) FILTER (WHERE gone = 0), COUNT(*) FILTER (WHERE gone = 1) FROM media");
      if (!r.ok()) return r.status();
      summary.total = r->Int(0, 0);
      summary.gone = r->Int(0, 1);
    }
    {
      auto r = conn_->Query(std::string("SELECT a.status, COUNT(*) FROM analyses a JOIN media m ON m.id = a.media_id "
                                        "WHERE a.model_id = $1 AND m.gone = 0 AND ") +
                                kCurrent + " GROUP BY a.status",
                            {Param::Int(*model)});
      if (!r.ok()) return r.status();
      for (int i = 0; i < r->rows(); ++i) {
        if (r->Text(i, 0) == "done") summary.done = r->Int(i, 1);
        if (r->Text(i, 0) == "failed") summary.failed = r->Int(i, 1);
      }
    }
    summary.pending = summary.total - summary.done - summary.failed;
    // GROUP BY/ORDER BY lower(label) COLLATE "C": SQLite's NOCASE grouping and bytewise order.
    auto r = conn_->Query(
        "SELECT MIN(d.label), COUNT(DISTINCT d.media_id) AS files FROM detections d "
        "JOIN media m ON m.id = d.media_id WHERE d.model_id = $1 AND m.gone = 0 "
        "GROUP BY lower(d.label) ORDER BY files DESC, lower(d.label) COLLATE \"C\" LIMIT $2",
        {Param::Int(*model), Param::Int(kTopLabels)});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) summary.top_labels.emplace_back(r->Text(i, 0), r->Int(i, 1));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return summary;
}

Result<std::vector<RunRow>> PostgresCatalog::RecentRuns(int limit) {
  auto r = conn_->Query(
      "SELECT r.id, COALESCE(m.name || '@' || m.version, ''), r.device, r.started_at, r.finished_at, "
      "r.done, r.failed, r.skipped FROM runs r LEFT JOIN models m ON m.id = r.model_id "
      "ORDER BY r.id DESC LIMIT $1",
      {LimitParam(limit)});
  if (!r.ok()) return r.status();
  std::vector<RunRow> runs;
  for (int i = 0; i < r->rows(); ++i) {
    RunRow row;
    row.id = r->Int(i, 0);
    row.model = r->Text(i, 1);
    row.device = r->Text(i, 2);
    row.started_at = r->Int(i, 3);
    row.finished_at = r->Int(i, 4);
    row.counts = {r->Int(i, 5), r->Int(i, 6), r->Int(i, 7)};
    runs.push_back(std::move(row));
  }
  return runs;
}

Result<std::vector<ErrorRow>> PostgresCatalog::Errors(int64_t model_id, int limit) {
  std::vector<ErrorRow> errors;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    auto model = ResolveModel(*conn_, model_id);
    if (!model.ok()) return model.status();
    auto r = conn_->Query(std::string("SELECT m.id, m.path, a.error FROM analyses a JOIN media m ON m.id = a.media_id "
                                      "WHERE a.model_id = $1 AND a.status = 'failed' AND m.gone = 0 AND ") +
                              kCurrent + " ORDER BY m.path LIMIT $2",
                          {Param::Int(*model), LimitParam(limit)});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) errors.push_back({r->Int(i, 0), r->Bytes(i, 1), r->Bytes(i, 2)});
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return errors;
}

Result<std::vector<ExportRow>> PostgresCatalog::ExportAll(int64_t model_id) {
  std::vector<ExportRow> rows;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    auto model = ResolveModel(*conn_, model_id);
    if (!model.ok()) return model.status();
    std::unordered_map<int64_t, size_t> index;
    {
      auto r = conn_->Query(std::string("SELECT m.id, m.path, m.kind, m.width, m.height FROM analyses a "
                                        "JOIN media m ON m.id = a.media_id WHERE a.model_id = $1 AND a.status = 'done' "
                                        "AND m.gone = 0 AND ") +
                                kCurrent + " ORDER BY m.id",
                            {Param::Int(*model)});
      if (!r.ok()) return r.status();
      for (int i = 0; i < r->rows(); ++i) {
        ExportRow row;
        row.media_id = r->Int(i, 0);
        row.path = r->Bytes(i, 1);
        row.kind = KindFrom(r->Text(i, 2));
        row.width = static_cast<int>(r->Int(i, 3));
        row.height = static_cast<int>(r->Int(i, 4));
        index.emplace(row.media_id, rows.size());
        rows.push_back(std::move(row));
      }
    }
    auto r =
        conn_->Query(std::string("SELECT d.media_id, ") + kDetectionColumns +
                         " FROM detections d WHERE d.model_id = $1 ORDER BY d.media_id, d.time_s, d.score DESC, d.id",
                     {Param::Int(*model)});
    if (!r.ok()) return r.status();
    for (int i = 0; i < r->rows(); ++i) {
      auto it = index.find(r->Int(i, 0));
      if (it != index.end()) rows[it->second].detections.push_back(ReadDetection(*r, i, 1));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return rows;
}

}  // namespace mediadex::catalog::postgres
