#include "catalog/postgres/pg_schema.h"

#include <vector>

namespace mediadex::catalog::postgres {
namespace {

// Migration i (1-based) is kMigrations[i - 1]. Never edit a shipped migration: append one.
// Types against sqlite/schema.cpp: INTEGER ids -> BIGSERIAL/BIGINT; REAL -> DOUBLE PRECISION;
// paths, and texts that quote paths (errors, run roots), -> BYTEA: PostgreSQL's TEXT refuses
// bytes that are not valid in the database's encoding, and a Linux file name is any bytes.
// BYTEA also orders bytewise, as SQLite's BINARY collation does. Labels compare
// case-insensitively through lower(label) (SQLite: COLLATE NOCASE).
const char* const kMigrations[] = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE media (
  id            BIGSERIAL PRIMARY KEY,
  path          BYTEA   NOT NULL UNIQUE,
  size          BIGINT  NOT NULL,
  mtime_ns      BIGINT  NOT NULL,
  content_hash  TEXT    NOT NULL DEFAULT '',
  kind          TEXT    NOT NULL DEFAULT 'image' CHECK (kind IN ('image', 'video')),
  width         INTEGER NOT NULL DEFAULT 0,
  height        INTEGER NOT NULL DEFAULT 0,
  orientation   INTEGER NOT NULL DEFAULT 1,
  capture_time  BIGINT  NOT NULL DEFAULT 0,
  duration_s    DOUBLE PRECISION NOT NULL DEFAULT 0,
  gone          SMALLINT NOT NULL DEFAULT 0,
  first_seen    BIGINT  NOT NULL,
  last_seen     BIGINT  NOT NULL
);
CREATE INDEX media_gone_hash ON media(content_hash) WHERE gone = 1;

CREATE TABLE models (
  id          BIGSERIAL PRIMARY KEY,
  name        TEXT    NOT NULL,
  version     TEXT    NOT NULL,
  settings    TEXT    NOT NULL,
  created_at  BIGINT  NOT NULL,
  UNIQUE (name, version, settings)
);

CREATE TABLE runs (
  id           BIGSERIAL PRIMARY KEY,
  model_id     BIGINT  NOT NULL REFERENCES models(id),
  device       TEXT    NOT NULL DEFAULT '',
  settings     TEXT    NOT NULL DEFAULT '',
  roots        BYTEA   NOT NULL DEFAULT '',
  started_at   BIGINT  NOT NULL,
  finished_at  BIGINT  NOT NULL DEFAULT 0,
  done         BIGINT  NOT NULL DEFAULT 0,
  failed       BIGINT  NOT NULL DEFAULT 0,
  skipped      BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE analyses (
  media_id     BIGINT  NOT NULL REFERENCES media(id) ON DELETE CASCADE,
  model_id     BIGINT  NOT NULL REFERENCES models(id),
  status       TEXT    NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
  error        BYTEA   NOT NULL DEFAULT '',
  run_id       BIGINT  REFERENCES runs(id),
  analysed_at  BIGINT  NOT NULL,
  size         BIGINT  NOT NULL,
  mtime_ns     BIGINT  NOT NULL,
  PRIMARY KEY (media_id, model_id)
);
CREATE INDEX analyses_model_status ON analyses(model_id, status);

CREATE TABLE detections (
  id        BIGSERIAL PRIMARY KEY,
  media_id  BIGINT  NOT NULL REFERENCES media(id) ON DELETE CASCADE,
  model_id  BIGINT  NOT NULL REFERENCES models(id),
  label     TEXT    NOT NULL,
  class_id  INTEGER NOT NULL,
  score     DOUBLE PRECISION NOT NULL,
  x1 DOUBLE PRECISION NOT NULL, y1 DOUBLE PRECISION NOT NULL,
  x2 DOUBLE PRECISION NOT NULL, y2 DOUBLE PRECISION NOT NULL,
  time_s    DOUBLE PRECISION NOT NULL DEFAULT -1
);
CREATE INDEX detections_media_model ON detections(media_id, model_id);
CREATE INDEX detections_label_score ON detections(lower(label), score DESC);
)sql",
    // The work queue (catalog/work_queue.h, postgres/pg_work_queue.cpp): one row per file and
    // model to analyse, its lease (owner, token from a sequence, expiry on the server's clock,
    // attempts), and the workers that take leases.
    R"sql(
CREATE SEQUENCE queue_lease_tokens;

CREATE TABLE queue_workers (
  id              BIGSERIAL PRIMARY KEY,
  host            TEXT        NOT NULL,
  pid             BIGINT      NOT NULL,
  device          TEXT        NOT NULL DEFAULT '',
  started_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  last_heartbeat  TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  stopped_at      TIMESTAMPTZ,
  done            BIGINT      NOT NULL DEFAULT 0,
  failed          BIGINT      NOT NULL DEFAULT 0
);

CREATE TABLE queue (
  media_id       BIGINT      NOT NULL REFERENCES media(id) ON DELETE CASCADE,
  model_id       BIGINT      NOT NULL REFERENCES models(id),
  state          TEXT        NOT NULL DEFAULT 'available'
                             CHECK (state IN ('available', 'leased', 'done', 'failed')),
  owner          BIGINT      REFERENCES queue_workers(id),
  lease_token    BIGINT,
  lease_expires  TIMESTAMPTZ,
  attempts       INTEGER     NOT NULL DEFAULT 0,
  last_error     BYTEA       NOT NULL DEFAULT '',
  enqueued_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  finished_at    TIMESTAMPTZ,
  PRIMARY KEY (media_id, model_id)
);
CREATE INDEX queue_claimable ON queue(model_id, state, media_id);
CREATE INDEX queue_lease ON queue(lease_token) WHERE lease_token IS NOT NULL;
)sql",
    // 3: the gallery's reads (pg_gallery.cpp). Date-ordered pages walk media_capture, newest
    // first, from the keyset cursor on (SQLite's migration 2 index). Score-ordered pages walk
    // detections best first per label (detections_model_label_score) or over all labels
    // (detections_model_score). media_folder indexes a file's folder (its path up to the last
    // '/', escaped to text and ASCII lower case: pg_gallery.cpp's kFolderExpr, which must stay
    // the same expression) for the folder: filter. SQLite's derived tables (its migration 3)
    // have no counterpart: PostgreSQL's planner has statistics per label and folder.
    R"sql(
CREATE INDEX media_capture ON media(capture_time, id) WHERE gone = 0;
CREATE INDEX media_folder ON media((lower(regexp_replace(encode(path, 'escape'), '[^/]*$', '') COLLATE "C")))
  WHERE gone = 0;
CREATE INDEX detections_model_label_score ON detections(model_id, lower(label), score, media_id);
CREATE INDEX detections_model_score ON detections(model_id, score, media_id);
)sql",
};

constexpr int64_t kMigrationCount = sizeof(kMigrations) / sizeof(kMigrations[0]);

// Our tables present in the current schema (of those a catalog has).
Result<std::vector<std::string>> OurTables(Connection& conn) {
  auto rows = conn.Query(
      "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename IN "
      "('mediadex_schema', 'media', 'models', 'runs', 'analyses', 'detections') ORDER BY tablename");
  if (!rows.ok()) return rows.status();
  std::vector<std::string> names;
  for (int i = 0; i < rows->rows(); ++i) names.push_back(rows->Text(i, 0));
  return names;
}

}  // namespace

int64_t LatestSchemaVersion() { return kMigrationCount; }

Result<int32_t> SchemaKey(Connection& conn) {
  auto rows = conn.Query("SELECT current_schema()");
  if (!rows.ok()) return rows.status();
  uint32_t h = 2166136261u;  // FNV-1a: stable across builds and platforms
  for (unsigned char c : rows->Text(0, 0)) h = (h ^ c) * 16777619u;
  return static_cast<int32_t>(h & 0x7fffffff);
}

Status CheckCatalog(Connection& conn, int64_t* version) {
  auto tables = OurTables(conn);
  if (!tables.ok()) return tables.status();
  bool marked = false;
  for (const auto& t : *tables) marked = marked || t == "mediadex_schema";
  if (!marked) {
    if (tables->empty()) {
      *version = 0;
      return Status::Ok();
    }
    return Corrupt(conn.name() + ": not a mediadex catalog (table '" + tables->front() +
                   "' exists but mediadex_schema does not; use another database or schema)");
  }
  auto rows = conn.Query("SELECT application, version FROM mediadex_schema");
  if (!rows.ok()) return rows.status();
  if (rows->rows() == 0) {
    *version = 0;  // a migration of another process is under way or failed before version 1
    return Status::Ok();
  }
  if (rows->Text(0, 0) != "mediadex") {
    return Corrupt(conn.name() + ": not a mediadex catalog (mediadex_schema names '" + rows->Text(0, 0) + "')");
  }
  const int64_t v = rows->Int(0, 1);
  if (v > kMigrationCount) {
    return Unsupported(conn.name() + ": catalog schema version " + std::to_string(v) +
                       " is newer than this build knows (" + std::to_string(kMigrationCount) + "); upgrade mediadex");
  }
  *version = v;
  return Status::Ok();
}

Status Migrate(Connection& conn) {
  auto key = SchemaKey(conn);
  if (!key.ok()) return key.status();
  for (;;) {
    Transaction tx(conn);
    MDX_RETURN_IF_ERROR(tx.Begin());
    MDX_RETURN_IF_ERROR(conn.Query("SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
                                   {Param::Int(kMigrationLockClass), Param::Int(*key)})
                            .status());
    // Under the lock: no other process is between this check and its COMMIT.
    MDX_RETURN_IF_ERROR(
        conn.Exec("CREATE TABLE IF NOT EXISTS mediadex_schema (application TEXT NOT NULL, version BIGINT NOT NULL)"));
    int64_t current = 0;
    MDX_RETURN_IF_ERROR(CheckCatalog(conn, &current));
    if (current >= kMigrationCount) return tx.Commit();
    const int64_t next = current + 1;
    Status status = conn.Exec(kMigrations[next - 1]);
    if (status.ok()) {
      status = conn.Exec("DELETE FROM mediadex_schema; INSERT INTO mediadex_schema VALUES ('mediadex', " +
                         std::to_string(next) + ")");
    }
    if (status.ok()) status = tx.Commit();
    if (!status.ok()) return status.WithContext("migration " + std::to_string(next));
  }
}

}  // namespace mediadex::catalog::postgres
