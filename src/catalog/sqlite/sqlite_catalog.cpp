#include "catalog/sqlite/sqlite_catalog.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "catalog/sqlite/gallery_index.h"
#include "catalog/sqlite/schema.h"
#include "catalog/sqlite/statement.h"

// Borrows the cached statement for `sql` as `var` (reset when it leaves scope); returns the
// prepare error from the enclosing function (Status or Result<T>).
#define MDX_STMT(var, sql)                                                   \
  sqlite3_stmt* var##_raw_ = nullptr;                                        \
  {                                                                          \
    ::mediadex::Status prep_status_;                                         \
    if (!conn_->Prepare((sql), &var##_raw_, &prep_status_)) return prep_status_; \
  }                                                                          \
  Stmt var(var##_raw_, conn_->db(), &conn_->path())

namespace mediadex::catalog::sqlite {
namespace {

int64_t NowSeconds() { return static_cast<int64_t>(std::time(nullptr)); }

const char* KindText(MediaKind kind) { return kind == MediaKind::kVideo ? "video" : "image"; }
MediaKind KindFrom(const std::string& text) { return text == "video" ? MediaKind::kVideo : MediaKind::kImage; }

const char* StatusText(bool ok) { return ok ? "done" : "failed"; }

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool Finite(const Detection& d) {
  return std::isfinite(d.score) && std::isfinite(d.box.x1) && std::isfinite(d.box.y1) &&
         std::isfinite(d.box.x2) && std::isfinite(d.box.y2);
}

// Columns: label, class_id, score, x1, y1, x2, y2, time_s starting at `col`.
StoredDetection ReadDetection(const Stmt& stmt, int col) {
  StoredDetection out;
  out.detection.label = stmt.Text(col);
  out.detection.class_id = static_cast<int>(stmt.Int(col + 1));
  out.detection.score = static_cast<float>(stmt.Real(col + 2));
  out.detection.box = {static_cast<float>(stmt.Real(col + 3)), static_cast<float>(stmt.Real(col + 4)),
                       static_cast<float>(stmt.Real(col + 5)), static_cast<float>(stmt.Real(col + 6))};
  out.time_s = stmt.Real(col + 7);
  return out;
}

constexpr const char* kMediaColumns = "id, path, size, mtime_ns, content_hash, gone, kind";

MediaRow ReadMedia(const Stmt& stmt) {
  MediaRow row;
  row.id = stmt.Int(0);
  row.path = stmt.Text(1);
  row.size = static_cast<uint64_t>(stmt.Int(2));
  row.mtime_ns = stmt.Int(3);
  row.content_hash = stmt.Text(4);
  row.gone = stmt.Int(5) != 0;
  row.kind = KindFrom(stmt.Text(6));
  return row;
}

// A result that is current: computed for the file's present size and mtime.
constexpr const char* kCurrent = "a.size = m.size AND a.mtime_ns = m.mtime_ns";

// Refuses, before SQLite touches it, a non-empty file that does not start with SQLite's magic.
Status CheckHeader(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Status::Ok();  // new file
  if (S_ISDIR(st.st_mode)) return InvalidArgument(path + ": is a directory, not a catalog file");
  if (st.st_size == 0) return Status::Ok();
  static const char kMagic[16] = "SQLite format 3";  // with its terminating NUL: 16 bytes
  char header[16] = {};
  std::ifstream in(path, std::ios::binary);
  if (!in) return IOError(path + ": cannot read catalog: " + std::strerror(errno));
  in.read(header, sizeof(header));
  if (in.gcount() < static_cast<std::streamsize>(sizeof(header)) || std::memcmp(header, kMagic, 16) != 0) {
    return Corrupt(path + ": not a mediadex catalog (not an SQLite database)");
  }
  return Status::Ok();
}

// PRAGMA quick_check (every page and index entry readable and well-formed; cheaper than
// integrity_check, which also cross-checks the indexes' contents): a damaged catalog is refused
// on open, before anything is written to it, instead of failing (or not) in a later call.
Status QuickCheck(Connection& conn) {
  Status status;
  sqlite3_stmt* raw = nullptr;
  if (!conn.Prepare("PRAGMA quick_check(5)", &raw, &status)) return status;
  Stmt stmt(raw, conn.db(), &conn.path());
  std::string problems;
  while (stmt.Step(&status)) {
    const std::string line = stmt.Text(0);
    if (line == "ok") return Status::Ok();
    problems += (problems.empty() ? "" : "; ") + line;
  }
  if (!status.ok()) {
    if (status.code() != StatusCode::kCorrupt) return status;
    return Corrupt(status.message() + " (PRAGMA quick_check): the catalog is damaged; restore a backup, "
                                      "or move it away and index again");
  }
  return Corrupt(conn.path() + ": the catalog is damaged (PRAGMA quick_check: " + problems +
                 "); restore a backup, or move it away and index again");
}

// Files this process has quick_check'ed, by device, inode, size and mtime: the check reads the
// whole file (1.2 s, 0.5 s of CPU on a 100,000-photo catalog), and the server opens a connection
// per reader; later opens of the same unchanged file in this process trust the first answer.
using FileKey = std::array<uint64_t, 4>;

class CheckedFiles {
 public:
  static bool Key(const std::string& path, FileKey* key) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return false;
    *key = {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), static_cast<uint64_t>(st.st_size),
            static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000u + static_cast<uint64_t>(st.st_mtim.tv_nsec)};
    return true;
  }
  bool Contains(const FileKey& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return std::find(keys_.begin(), keys_.end(), key) != keys_.end();
  }
  void Add(const FileKey& key) {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::find(keys_.begin(), keys_.end(), key) == keys_.end()) keys_.push_back(key);
  }

 private:
  std::mutex mu_;
  std::vector<FileKey> keys_;
};

CheckedFiles& Checked() {
  static CheckedFiles* files = new CheckedFiles();  // never destroyed: used until exit
  return *files;
}

}  // namespace

SqliteCatalog::SqliteCatalog(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}
SqliteCatalog::~SqliteCatalog() = default;

Result<std::unique_ptr<SqliteCatalog>> SqliteCatalog::Open(const std::string& path) {
  MDX_RETURN_IF_ERROR(CheckHeader(path));
  auto conn = std::make_unique<Connection>();
  // NOMUTEX: one thread per object (catalog.h), so SQLite's own per-connection mutex is waste.
  MDX_RETURN_IF_ERROR(conn->Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX));
  sqlite3_busy_timeout(conn->db(), kBusyTimeoutMs);
  int64_t version = 0;
  // Read-only checks first: a foreign or newer file is refused before anything is written.
  MDX_RETURN_IF_ERROR(CheckCatalog(*conn, &version));
  if (version > 0) {
    FileKey key;
    const bool known = CheckedFiles::Key(path, &key);
    if (!known || !Checked().Contains(key)) {
      MDX_RETURN_IF_ERROR(QuickCheck(*conn));
      if (known) Checked().Add(key);
    }
  }

  // WAL lets readers in other processes read while we write. synchronous=NORMAL still keeps a
  // committed transaction across a process kill (it is in the WAL, in the OS page cache); on
  // power loss the last commits may roll back, but the WAL's checksums keep the file consistent.
  MDX_RETURN_IF_ERROR(conn->Exec("PRAGMA journal_mode = WAL"));
  {
    Status status;
    sqlite3_stmt* raw = nullptr;
    if (!conn->Prepare("PRAGMA journal_mode", &raw, &status)) return status;
    Stmt stmt(raw, conn->db(), &conn->path());
    if (!stmt.Step(&status)) return status.ok() ? IOError(path + ": cannot read journal mode") : status;
    if (Lower(stmt.Text(0)) != "wal") {
      return IOError(path + ": cannot switch the catalog to WAL mode (journal_mode is " + stmt.Text(0) +
                     "; is it on a network file system?)");
    }
  }
  // The default 2 MiB page cache makes every batch re-read index pages through the kernel
  // (measured: most of CommitBatch's time); 32 MiB keeps a large library's hot pages, allocated
  // only as used. No mmap: touched mapped pages would count against --max-memory as RSS.
  MDX_RETURN_IF_ERROR(conn->Exec("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
                                 "PRAGMA cache_size = -" + std::to_string(kCacheKiB)));
  if (version < LatestSchemaVersion()) MDX_RETURN_IF_ERROR(Migrate(*conn));
  return std::unique_ptr<SqliteCatalog>(new SqliteCatalog(std::move(conn)));
}

namespace {

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT; any error (or exception) rolls all of it back.
// IMMEDIATE takes the write lock up front, so a busy catalog fails before any work is done.
Status InTransaction(Connection& conn, const char* begin, const std::function<Status()>& body) {
  MDX_RETURN_IF_ERROR(conn.Exec(begin));
  Status status;
  try {
    status = body();
  } catch (const std::exception& e) {
    status = IOError(conn.path() + ": " + e.what());
  }
  if (status.ok()) status = conn.Exec("COMMIT");
  if (!status.ok() && !sqlite3_get_autocommit(conn.db())) (void)conn.Exec("ROLLBACK");
  return status;
}

constexpr const char* kWrite = "BEGIN IMMEDIATE";
constexpr const char* kRead = "BEGIN";  // deferred: a consistent snapshot for multi-query reads

}  // namespace

Result<int64_t> SqliteCatalog::RegisterModel(const ModelKey& model) {
  if (model.name.empty()) return InvalidArgument(conn_->path() + ": model name is empty");
  int64_t id = 0;
  Status status = InTransaction(*conn_, kWrite, [&]() -> Status {
    {
      MDX_STMT(insert,
               "INSERT INTO models (name, version, settings, created_at) VALUES (?, ?, ?, ?) "
               "ON CONFLICT (name, version, settings) DO NOTHING");
      MDX_RETURN_IF_ERROR(insert.Bind(1, model.name).Bind(2, model.version).Bind(3, model.settings)
                              .Bind(4, NowSeconds()).Run());
    }
    MDX_STMT(select, "SELECT id FROM models WHERE name = ? AND version = ? AND settings = ?");
    select.Bind(1, model.name).Bind(2, model.version).Bind(3, model.settings);
    Status step;
    if (!select.Step(&step)) return step.ok() ? IOError(conn_->path() + ": model row vanished") : step;
    id = select.Int(0);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return id;
}

Result<int64_t> SqliteCatalog::BeginRun(const RunInfo& run) {
  std::string roots;
  for (const auto& r : run.roots) roots += (roots.empty() ? "" : "\n") + r;
  int64_t id = 0;
  Status status = InTransaction(*conn_, kWrite, [&]() -> Status {
    MDX_STMT(insert,
             "INSERT INTO runs (model_id, device, settings, roots, started_at) VALUES (?, ?, ?, ?, ?)");
    Status s = insert.Bind(1, run.model_id).Bind(2, run.device).Bind(3, run.settings).Bind(4, roots)
                   .Bind(5, NowSeconds()).Run();
    if (!s.ok()) return s.WithContext("model id " + std::to_string(run.model_id));
    id = sqlite3_last_insert_rowid(conn_->db());
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return id;
}

Status SqliteCatalog::FinishRun(int64_t run_id, const RunCounts& counts) {
  return InTransaction(*conn_, kWrite, [&]() -> Status {
    MDX_STMT(update, "UPDATE runs SET finished_at = ?, done = ?, failed = ?, skipped = ? WHERE id = ?");
    MDX_RETURN_IF_ERROR(update.Bind(1, NowSeconds()).Bind(2, counts.done).Bind(3, counts.failed)
                            .Bind(4, counts.skipped).Bind(5, run_id).Run());
    if (sqlite3_changes(conn_->db()) == 0) return NotFound(conn_->path() + ": no run " + std::to_string(run_id));
    return Status::Ok();
  });
}

Result<std::vector<MediaRow>> SqliteCatalog::LoadFileIndex() {
  std::vector<MediaRow> rows;
  MDX_STMT(select, std::string("SELECT ") + kMediaColumns + " FROM media WHERE gone = 0");
  Status status;
  while (select.Step(&status)) rows.push_back(ReadMedia(select));
  if (!status.ok()) return status;
  return rows;
}

Result<std::vector<MediaRow>> SqliteCatalog::FindGoneByHash(const std::string& content_hash) {
  std::vector<MediaRow> rows;
  if (content_hash.empty()) return rows;  // "" means "not hashed yet": never a match
  MDX_STMT(select, std::string("SELECT ") + kMediaColumns +
                       " FROM media WHERE gone = 1 AND content_hash = ? ORDER BY id");
  select.Bind(1, content_hash);
  Status status;
  while (select.Step(&status)) rows.push_back(ReadMedia(select));
  if (!status.ok()) return status;
  return rows;
}

Status SqliteCatalog::ApplyScan(const ScanChanges& changes) {
  const std::string& path = conn_->path();
  auto missing = [&](int64_t id, const char* what) {
    return NotFound(path + ": " + what + ": media id " + std::to_string(id) + " is not in the catalog");
  };
  const int64_t now = NowSeconds();
  return InTransaction(*conn_, kWrite, [&]() -> Status {
    FolderSetter folders(*conn_);
    for (int64_t id : changes.gone) {
      MDX_STMT(update, "UPDATE media SET gone = 1 WHERE id = ?");
      MDX_RETURN_IF_ERROR(update.Bind(1, id).Run());
      if (sqlite3_changes(conn_->db()) == 0) return missing(id, "gone");
      MDX_RETURN_IF_ERROR(DropLabels(*conn_, id));
    }
    for (const auto& [id, new_path] : changes.moved) {
      {
        // A stale row already at the new path describes a file that is no longer there: the
        // moved file replaces it (its own results cascade away), the moved row keeps its id.
        MDX_STMT(drop, "DELETE FROM media WHERE path = ? AND id <> ?");
        MDX_RETURN_IF_ERROR(drop.Bind(1, new_path).Bind(2, id).Run());
      }
      MDX_STMT(update, "UPDATE media SET path = ?, gone = 0, last_seen = ? WHERE id = ?");
      MDX_RETURN_IF_ERROR(update.Bind(1, new_path).Bind(2, now).Bind(3, id).Run());
      if (sqlite3_changes(conn_->db()) == 0) return missing(id, "moved");
      MDX_RETURN_IF_ERROR(folders.Set(id, new_path));
      MDX_RETURN_IF_ERROR(RefreshLabels(*conn_, id, 0));  // back in the gallery, results and all
    }
    for (const FileStat& file : changes.added) {
      // A path we knew (gone, or re-added) comes back on the same row; the hash stays only when
      // size and mtime still match, and results stay current on the same condition.
      MDX_STMT(upsert,
               "INSERT INTO media (path, size, mtime_ns, kind, first_seen, last_seen) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT (path) DO UPDATE SET "
               "content_hash = CASE WHEN size = excluded.size AND mtime_ns = excluded.mtime_ns "
               "THEN content_hash ELSE '' END, "
               "size = excluded.size, mtime_ns = excluded.mtime_ns, kind = excluded.kind, gone = 0, "
               "last_seen = excluded.last_seen RETURNING id");
      upsert.Bind(1, file.path)
          .Bind(2, static_cast<int64_t>(file.size))
          .Bind(3, file.mtime_ns)
          .Bind(4, std::string(KindText(file.kind)))
          .Bind(5, now);
      Status step;
      if (!upsert.Step(&step)) return step.ok() ? IOError(path + ": upsert of " + file.path + " gave no id") : step;
      const int64_t id = upsert.Int(0);
      while (upsert.Step(&step)) {
      }
      MDX_RETURN_IF_ERROR(step);
      MDX_RETURN_IF_ERROR(folders.Set(id, file.path));
      // A known file come back brings its results back to the gallery; a new one has none.
      MDX_STMT(known, "SELECT EXISTS (SELECT 1 FROM detections WHERE media_id = ?)");
      known.Bind(1, id);
      if (!known.Step(&step))
        return step.ok() ? IOError(path + ": cannot tell whether " + file.path + " is known") : step;
      if (known.Int(0) != 0) MDX_RETURN_IF_ERROR(RefreshLabels(*conn_, id, 0));
    }
    for (const auto& [id, file] : changes.changed) {
      // New bytes: the old hash no longer describes them (and must not match a move).
      MDX_STMT(update,
               "UPDATE media SET size = ?, mtime_ns = ?, kind = ?, content_hash = '', gone = 0, "
               "last_seen = ? WHERE id = ?");
      MDX_RETURN_IF_ERROR(update.Bind(1, static_cast<int64_t>(file.size)).Bind(2, file.mtime_ns)
                              .Bind(3, std::string(KindText(file.kind))).Bind(4, now).Bind(5, id).Run());
      if (sqlite3_changes(conn_->db()) == 0) return missing(id, "changed");
      MDX_RETURN_IF_ERROR(RefreshLabels(*conn_, id, 0));  // it may have been gone; old results still show
    }
    return Status::Ok();
  });
}

Result<std::vector<MediaRow>> SqliteCatalog::PendingFor(int64_t model_id, int64_t limit) {
  if (model_id <= 0) return InvalidArgument(conn_->path() + ": PendingFor needs a model id");
  std::vector<MediaRow> rows;
  MDX_STMT(select, std::string("SELECT ") + kMediaColumns +
                       " FROM media m WHERE gone = 0 AND NOT EXISTS (SELECT 1 FROM analyses a "
                       "WHERE a.media_id = m.id AND a.model_id = ? AND a.status IN ('done', 'failed') AND " +
                       kCurrent + ") ORDER BY path LIMIT ?");
  select.Bind(1, model_id).Bind(2, limit > 0 ? limit : int64_t{-1});
  Status status;
  while (select.Step(&status)) rows.push_back(ReadMedia(select));
  if (!status.ok()) return status;
  return rows;
}

Status SqliteCatalog::CommitBatch(int64_t model_id, int64_t run_id, const std::vector<MediaResult>& results) {
  const std::string& path = conn_->path();
  if (model_id <= 0) return InvalidArgument(path + ": CommitBatch needs a model id");
  const int64_t now = NowSeconds();
  return InTransaction(*conn_, kWrite, [&]() -> Status {
    int64_t done = 0, failed = 0;
    for (const MediaResult& r : results) {
      if (r.ok) {
        MDX_STMT(update,
                 "UPDATE media SET content_hash = CASE WHEN ?1 <> '' THEN ?1 ELSE content_hash END, "
                 "width = ?2, height = ?3, orientation = ?4, capture_time = ?5, duration_s = ?6 WHERE id = ?7");
        MDX_RETURN_IF_ERROR(update.Bind(1, r.content_hash).Bind(2, r.width).Bind(3, r.height)
                                .Bind(4, r.orientation).Bind(5, r.capture_time).Bind(6, r.duration_s)
                                .Bind(7, r.media_id).Run());
      } else {
        MDX_STMT(update,
                 "UPDATE media SET content_hash = CASE WHEN ?1 <> '' THEN ?1 ELSE content_hash END WHERE id = ?2");
        MDX_RETURN_IF_ERROR(update.Bind(1, r.content_hash).Bind(2, r.media_id).Run());
      }
      if (sqlite3_changes(conn_->db()) == 0) {
        return NotFound(path + ": batch result for media id " + std::to_string(r.media_id) +
                        ", which is not in the catalog");
      }
      {
        MDX_STMT(drop, "DELETE FROM detections WHERE media_id = ? AND model_id = ?");
        MDX_RETURN_IF_ERROR(drop.Bind(1, r.media_id).Bind(2, model_id).Run());
      }
      if (r.ok && !r.detections.empty()) {
        MDX_STMT(insert,
                 "INSERT INTO detections (media_id, model_id, label, class_id, score, x1, y1, x2, y2, time_s) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        for (const StoredDetection& sd : r.detections) {
          const Detection& d = sd.detection;
          if (!Finite(d)) continue;  // NaN/inf carry no meaning and would break ordering
          insert.Reset();
          Status s = insert.Bind(1, r.media_id).Bind(2, model_id).Bind(3, d.label).Bind(4, d.class_id)
                         .Bind(5, static_cast<double>(d.score)).Bind(6, static_cast<double>(d.box.x1))
                         .Bind(7, static_cast<double>(d.box.y1)).Bind(8, static_cast<double>(d.box.x2))
                         .Bind(9, static_cast<double>(d.box.y2)).Bind(10, sd.time_s).Run();
          if (!s.ok()) return s.WithContext("media id " + std::to_string(r.media_id));
        }
      }
      MDX_RETURN_IF_ERROR(RefreshLabels(*conn_, r.media_id, model_id));
      MDX_STMT(analysis,
               "INSERT INTO analyses (media_id, model_id, status, error, run_id, analysed_at, size, mtime_ns) "
               "SELECT ?1, ?2, ?3, ?4, ?5, ?6, size, mtime_ns FROM media WHERE id = ?1 "
               "ON CONFLICT (media_id, model_id) DO UPDATE SET status = excluded.status, "
               "error = excluded.error, run_id = excluded.run_id, analysed_at = excluded.analysed_at, "
               "size = excluded.size, mtime_ns = excluded.mtime_ns");
      analysis.Bind(1, r.media_id).Bind(2, model_id).Bind(3, std::string(StatusText(r.ok)))
          .Bind(4, r.ok ? std::string() : r.error).Bind(6, now);
      if (run_id > 0) analysis.Bind(5, run_id); else analysis.BindNull(5);
      Status s = analysis.Run();
      if (!s.ok()) return s.WithContext("media id " + std::to_string(r.media_id));
      (r.ok ? done : failed)++;
    }
    if (run_id > 0) {
      // Live progress for `mediadex status`; FinishRun writes the final counts.
      MDX_STMT(update, "UPDATE runs SET done = done + ?, failed = failed + ? WHERE id = ?");
      MDX_RETURN_IF_ERROR(update.Bind(1, done).Bind(2, failed).Bind(3, run_id).Run());
    }
    return Status::Ok();
  });
}

namespace {

// "?, ?, ?" for n placeholders.
std::string Placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

}  // namespace

Result<std::vector<SearchHit>> SqliteCatalog::Search(const SearchQuery& query) {
  const std::string& path = conn_->path();
  // Labels compare case-insensitively (the column is COLLATE NOCASE), so dedupe the same way.
  std::vector<std::string> labels;
  for (const auto& label : query.labels) {
    bool seen = false;
    for (const auto& l : labels) seen = seen || Lower(l) == Lower(label);
    if (!seen && !label.empty()) labels.push_back(label);
  }
  if (labels.empty()) return InvalidArgument(path + ": search needs at least one label");
  const bool by_model = query.model_id > 0;
  // `+` keeps a column's collation but hides it from the planner: the per-hit query below must
  // look rows up by media_id, not walk every detection of the label (measured: 100x slower).
  auto filter_for = [&](const char* prefix) {
    return std::string(prefix) + "d.label IN (" + Placeholders(labels.size()) + ") AND " + prefix +
           "d.score >= ?" + (by_model ? " AND d.model_id = ?" : "");
  };
  const std::string filter = filter_for("");
  // Binds the filter's parameters starting at position 1; returns the next position.
  auto bind_filter = [&](Stmt& stmt) {
    int i = 1;
    for (const auto& l : labels) stmt.Bind(i++, l);
    stmt.Bind(i++, static_cast<double>(query.score_min));
    if (by_model) stmt.Bind(i++, query.model_id);
    return i;
  };

  std::vector<SearchHit> hits;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    {
      std::string sql = "SELECT d.media_id, MAX(d.score) AS best, m.path, m.kind, m.width, m.height "
                        "FROM detections d JOIN media m ON m.id = d.media_id WHERE m.gone = 0 AND " +
                        filter + " GROUP BY d.media_id" +
                        (query.match_all ? " HAVING COUNT(DISTINCT d.label) = ?" : "") +
                        " ORDER BY best DESC, d.media_id LIMIT ?";
      MDX_STMT(select, sql);
      int i = bind_filter(select);
      if (query.match_all) select.Bind(i++, static_cast<int64_t>(labels.size()));
      select.Bind(i, query.limit > 0 ? int64_t{query.limit} : int64_t{-1});
      Status step;
      while (select.Step(&step)) {
        SearchHit hit;
        hit.media_id = select.Int(0);
        hit.best_score = static_cast<float>(select.Real(1));
        hit.path = select.Text(2);
        hit.kind = KindFrom(select.Text(3));
        hit.width = static_cast<int>(select.Int(4));
        hit.height = static_cast<int>(select.Int(5));
        hits.push_back(std::move(hit));
      }
      MDX_RETURN_IF_ERROR(step);
    }
    // Matching detections per hit: a video's moments in time order, a photo's best first.
    std::string sql = "SELECT d.label, d.class_id, d.score, d.x1, d.y1, d.x2, d.y2, d.time_s FROM detections d "
                      "WHERE " + filter_for("+") + " AND d.media_id = ? ORDER BY d.time_s, d.score DESC, d.id";
    for (SearchHit& hit : hits) {
      MDX_STMT(select, sql);
      select.Bind(bind_filter(select), hit.media_id);
      Status step;
      while (select.Step(&step)) hit.matches.push_back(ReadDetection(select, 0));
      MDX_RETURN_IF_ERROR(step);
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return hits;
}

namespace {

constexpr int kTopLabels = 10;

}  // namespace

Result<int64_t> ResolveModel(Connection& conn, int64_t model_id) {
  if (model_id > 0) return model_id;
  for (const char* sql : {"SELECT COALESCE((SELECT model_id FROM runs ORDER BY id DESC LIMIT 1), 0)",
                          "SELECT COALESCE((SELECT id FROM models ORDER BY id DESC LIMIT 1), 0)"}) {
    auto id = conn.QueryInt(sql);
    if (!id.ok() || *id > 0) return id;
  }
  return int64_t{0};
}

Result<StatusSummary> SqliteCatalog::Summary(int64_t model_id) {
  StatusSummary summary;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    auto model = ResolveModel(*conn_, model_id);
    if (!model.ok()) return model.status();
    {
      MDX_STMT(counts, "SELECT COALESCE(SUM(gone = 0), 0), COALESCE(SUM(gone = 1), 0) FROM media");
      Status step;
      if (counts.Step(&step)) {
        summary.total = counts.Int(0);
        summary.gone = counts.Int(1);
      }
      MDX_RETURN_IF_ERROR(step);
    }
    {
      MDX_STMT(by_status, std::string("SELECT a.status, COUNT(*) FROM analyses a JOIN media m ON m.id = a.media_id "
                                      "WHERE a.model_id = ? AND m.gone = 0 AND ") +
                              kCurrent + " GROUP BY a.status");
      by_status.Bind(1, *model);
      Status step;
      while (by_status.Step(&step)) {
        std::string s = by_status.Text(0);
        if (s == "done") summary.done = by_status.Int(1);
        if (s == "failed") summary.failed = by_status.Int(1);
      }
      MDX_RETURN_IF_ERROR(step);
    }
    summary.pending = summary.total - summary.done - summary.failed;
    MDX_STMT(top, "SELECT d.label, COUNT(DISTINCT d.media_id) AS files FROM detections d "
                  "JOIN media m ON m.id = d.media_id WHERE d.model_id = ? AND m.gone = 0 "
                  "GROUP BY d.label ORDER BY files DESC, d.label LIMIT ?");
    top.Bind(1, *model).Bind(2, kTopLabels);
    Status step;
    while (top.Step(&step)) summary.top_labels.emplace_back(top.Text(0), top.Int(1));
    return step;
  });
  if (!status.ok()) return status;
  return summary;
}

Result<std::vector<RunRow>> SqliteCatalog::RecentRuns(int limit) {
  std::vector<RunRow> runs;
  MDX_STMT(select,
           "SELECT r.id, COALESCE(m.name || '@' || m.version, ''), r.device, r.started_at, r.finished_at, "
           "r.done, r.failed, r.skipped FROM runs r LEFT JOIN models m ON m.id = r.model_id "
           "ORDER BY r.id DESC LIMIT ?");
  select.Bind(1, limit > 0 ? int64_t{limit} : int64_t{-1});
  Status status;
  while (select.Step(&status)) {
    RunRow row;
    row.id = select.Int(0);
    row.model = select.Text(1);
    row.device = select.Text(2);
    row.started_at = select.Int(3);
    row.finished_at = select.Int(4);
    row.counts = {select.Int(5), select.Int(6), select.Int(7)};
    runs.push_back(std::move(row));
  }
  if (!status.ok()) return status;
  return runs;
}

Result<std::vector<ErrorRow>> SqliteCatalog::Errors(int64_t model_id, int limit) {
  std::vector<ErrorRow> errors;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    auto model = ResolveModel(*conn_, model_id);
    if (!model.ok()) return model.status();
    MDX_STMT(select, std::string("SELECT m.id, m.path, a.error FROM analyses a JOIN media m ON m.id = a.media_id "
                                 "WHERE a.model_id = ? AND a.status = 'failed' AND m.gone = 0 AND ") +
                         kCurrent + " ORDER BY m.path LIMIT ?");
    select.Bind(1, *model).Bind(2, limit > 0 ? int64_t{limit} : int64_t{-1});
    Status step;
    while (select.Step(&step)) errors.push_back({select.Int(0), select.Text(1), select.Text(2)});
    return step;
  });
  if (!status.ok()) return status;
  return errors;
}

Result<std::vector<ExportRow>> SqliteCatalog::ExportAll(int64_t model_id) {
  std::vector<ExportRow> rows;
  Status status = InTransaction(*conn_, kRead, [&]() -> Status {
    auto model = ResolveModel(*conn_, model_id);
    if (!model.ok()) return model.status();
    std::unordered_map<int64_t, size_t> index;
    {
      MDX_STMT(files, std::string("SELECT m.id, m.path, m.kind, m.width, m.height FROM analyses a "
                                  "JOIN media m ON m.id = a.media_id WHERE a.model_id = ? AND a.status = 'done' "
                                  "AND m.gone = 0 AND ") +
                          kCurrent + " ORDER BY m.id");
      files.Bind(1, *model);
      Status step;
      while (files.Step(&step)) {
        ExportRow row;
        row.media_id = files.Int(0);
        row.path = files.Text(1);
        row.kind = KindFrom(files.Text(2));
        row.width = static_cast<int>(files.Int(3));
        row.height = static_cast<int>(files.Int(4));
        index.emplace(row.media_id, rows.size());
        rows.push_back(std::move(row));
      }
      MDX_RETURN_IF_ERROR(step);
    }
    MDX_STMT(dets, "SELECT d.media_id, d.label, d.class_id, d.score, d.x1, d.y1, d.x2, d.y2, d.time_s "
                   "FROM detections d WHERE d.model_id = ? ORDER BY d.media_id, d.time_s, d.score DESC, d.id");
    dets.Bind(1, *model);
    Status step;
    while (dets.Step(&step)) {
      auto it = index.find(dets.Int(0));
      if (it != index.end()) rows[it->second].detections.push_back(ReadDetection(dets, 1));
    }
    return step;
  });
  if (!status.ok()) return status;
  return rows;
}

}  // namespace mediadex::catalog::sqlite
