#include "catalog/sqlite/schema.h"

#include <string>
#include <vector>

namespace mediadex::catalog::sqlite {
namespace {

// Migration i (1-based) is kMigrations[i - 1]. Never edit a shipped migration: append one.
const char* const kMigrations[] = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE media (
  id            INTEGER PRIMARY KEY,
  path          TEXT    NOT NULL UNIQUE,
  size          INTEGER NOT NULL,
  mtime_ns      INTEGER NOT NULL,
  content_hash  TEXT    NOT NULL DEFAULT '',
  kind          TEXT    NOT NULL DEFAULT 'image' CHECK (kind IN ('image', 'video')),
  width         INTEGER NOT NULL DEFAULT 0,
  height        INTEGER NOT NULL DEFAULT 0,
  orientation   INTEGER NOT NULL DEFAULT 1,
  capture_time  INTEGER NOT NULL DEFAULT 0,
  duration_s    REAL    NOT NULL DEFAULT 0,
  gone          INTEGER NOT NULL DEFAULT 0,
  first_seen    INTEGER NOT NULL,
  last_seen     INTEGER NOT NULL
);
CREATE INDEX media_gone_hash ON media(content_hash) WHERE gone = 1;

CREATE TABLE models (
  id          INTEGER PRIMARY KEY,
  name        TEXT    NOT NULL,
  version     TEXT    NOT NULL,
  settings    TEXT    NOT NULL,
  created_at  INTEGER NOT NULL,
  UNIQUE (name, version, settings)
);

CREATE TABLE runs (
  id           INTEGER PRIMARY KEY,
  model_id     INTEGER NOT NULL REFERENCES models(id),
  device       TEXT    NOT NULL DEFAULT '',
  settings     TEXT    NOT NULL DEFAULT '',
  roots        TEXT    NOT NULL DEFAULT '',
  started_at   INTEGER NOT NULL,
  finished_at  INTEGER NOT NULL DEFAULT 0,
  done         INTEGER NOT NULL DEFAULT 0,
  failed       INTEGER NOT NULL DEFAULT 0,
  skipped      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE analyses (
  media_id     INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
  model_id     INTEGER NOT NULL REFERENCES models(id),
  status       TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
  error        TEXT    NOT NULL DEFAULT '',
  run_id       INTEGER REFERENCES runs(id),
  analysed_at  INTEGER NOT NULL,
  size         INTEGER NOT NULL,
  mtime_ns     INTEGER NOT NULL,
  PRIMARY KEY (media_id, model_id)
) WITHOUT ROWID;
CREATE INDEX analyses_model_status ON analyses(model_id, status);

CREATE TABLE detections (
  id        INTEGER PRIMARY KEY,
  media_id  INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
  model_id  INTEGER NOT NULL REFERENCES models(id),
  label     TEXT    NOT NULL COLLATE NOCASE,
  class_id  INTEGER NOT NULL,
  score     REAL    NOT NULL,
  x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
  time_s    REAL    NOT NULL DEFAULT -1
);
CREATE INDEX detections_media_model ON detections(media_id, model_id);
CREATE INDEX detections_label_score ON detections(label, score DESC);
)sql",
    // 2: gallery reads (server): date-sorted pages walk this index instead of sorting every file.
    R"sql(
CREATE INDEX media_capture ON media(capture_time, id) WHERE gone = 0;
)sql",
    // 3: fast gallery filters. media_labels is each present file's best score per (model, label),
    // kept by CommitBatch and ApplyScan, so a score-sorted label search walks an index instead
    // of computing every matching file's best; folders holds the distinct parent directories
    // (with their trailing '/'), so folder:a/b matches a few thousand folder paths, not every file.
    // rtrim(path, <path without '/'>) is the path up to its last '/'.
    R"sql(
CREATE TABLE media_labels (
  media_id    INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE,
  model_id    INTEGER NOT NULL REFERENCES models(id),
  label       TEXT    NOT NULL COLLATE NOCASE,
  best_score  REAL    NOT NULL,
  PRIMARY KEY (media_id, model_id, label)
) WITHOUT ROWID;
INSERT INTO media_labels (media_id, model_id, label, best_score)
  SELECT d.media_id, d.model_id, d.label, MAX(d.score) FROM detections d JOIN media m ON m.id = d.media_id
  WHERE m.gone = 0 GROUP BY d.media_id, d.model_id, d.label;
CREATE INDEX media_labels_by_label ON media_labels(model_id, label, best_score DESC, media_id DESC);
CREATE INDEX media_labels_by_score ON media_labels(model_id, best_score DESC, media_id DESC);

CREATE TABLE folders (
  id    INTEGER PRIMARY KEY,
  path  TEXT    NOT NULL UNIQUE
);
ALTER TABLE media ADD COLUMN folder_id INTEGER REFERENCES folders(id);
INSERT OR IGNORE INTO folders (path) SELECT DISTINCT rtrim(path, replace(path, '/', '')) FROM media;
UPDATE media SET folder_id = (SELECT f.id FROM folders f WHERE f.path = rtrim(media.path, replace(media.path, '/', '')));
CREATE INDEX media_folder ON media(folder_id, capture_time, id) WHERE gone = 0;
)sql",
};

constexpr int64_t kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);

// Names of user tables, to tell an empty database from someone else's.
Status ListTables(Connection& conn, std::vector<std::string>* tables) {
  Status status;
  sqlite3_stmt* raw = nullptr;
  if (!conn.Prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                    "ORDER BY name",
                    &raw, &status)) {
    return status;
  }
  Stmt stmt(raw, conn.db(), &conn.path());
  while (stmt.Step(&status)) tables->push_back(stmt.Text(0));
  return status;
}

Status NotOurs(const std::string& path, const std::string& why) {
  return Corrupt(path + ": not a mediadex catalog (" + why + ")");
}

}  // namespace

int64_t LatestSchemaVersion() { return kMigrationCount; }

const char* MigrationSql(int64_t version) {
  return version >= 1 && version <= kMigrationCount ? kMigrations[version - 1] : nullptr;
}

Status CheckCatalog(Connection& conn, int64_t* version) {
  const std::string& path = conn.path();
  // Reading the schema is the first access to the file: random bytes fail here, read-only.
  std::vector<std::string> tables;
  Status status = ListTables(conn, &tables);
  if (!status.ok()) {
    if (status.code() == StatusCode::kCorrupt) return NotOurs(path, "not an SQLite database or damaged");
    return status;
  }
  auto app_id = conn.QueryInt("PRAGMA application_id");
  if (!app_id.ok()) return app_id.status();
  auto user_version = conn.QueryInt("PRAGMA user_version");
  if (!user_version.ok()) return user_version.status();

  if (tables.empty() && *app_id == 0 && *user_version == 0) {
    *version = 0;  // new or empty database: ours to create
    return Status::Ok();
  }
  if (*app_id != kApplicationId) {
    std::string names;
    for (size_t i = 0; i < tables.size() && i < 5; ++i) names += (i ? ", " : "") + tables[i];
    return NotOurs(path, tables.empty() ? "foreign application_id"
                                        : "SQLite database of another application, tables: " + names);
  }
  if (*user_version > kMigrationCount) {
    return Unsupported(path + ": catalog schema version " + std::to_string(*user_version) +
                       " is newer than this build knows (" + std::to_string(kMigrationCount) +
                       "); upgrade mediadex");
  }
  if (*user_version >= 1) {
    for (const char* required : {"analyses", "detections", "media", "models", "runs"}) {
      bool found = false;
      for (const auto& t : tables) found = found || t == required;
      if (!found) return NotOurs(path, std::string("table '") + required + "' is missing");
    }
  }
  *version = *user_version;
  return Status::Ok();
}

Status Migrate(Connection& conn) {
  for (;;) {
    MDX_RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
    auto current = conn.QueryInt("PRAGMA user_version");
    Status status = current.status();
    if (status.ok() && *current >= kMigrationCount) {
      return conn.Exec("COMMIT");
    }
    if (status.ok()) {
      int64_t next = *current + 1;
      status = conn.Exec(kMigrations[next - 1]);
      if (status.ok() && next == 1) status = conn.Exec("PRAGMA application_id = " + std::to_string(kApplicationId));
      if (status.ok()) status = conn.Exec("PRAGMA user_version = " + std::to_string(next));
      if (status.ok()) status = conn.Exec("COMMIT");
      if (!status.ok()) status = status.WithContext("migration " + std::to_string(next));
    }
    if (!status.ok()) {
      (void)conn.Exec("ROLLBACK");
      return status;
    }
  }
}

}  // namespace mediadex::catalog::sqlite
