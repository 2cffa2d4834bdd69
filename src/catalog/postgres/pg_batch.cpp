#include "catalog/postgres/pg_batch.h"

#include <cmath>
#include <ctime>
#include <unordered_map>

namespace mediadex::catalog::postgres {
namespace {

bool Finite(const Detection& d) {
  return std::isfinite(d.score) && std::isfinite(d.box.x1) && std::isfinite(d.box.y1) && std::isfinite(d.box.x2) &&
         std::isfinite(d.box.y2);
}

// Rows of the detections a batch stores, in the order SQLite inserts them (ids follow it).
std::vector<std::pair<int64_t, const StoredDetection*>> DetectionsOf(const std::vector<const MediaResult*>& batch) {
  std::vector<std::pair<int64_t, const StoredDetection*>> out;
  for (const MediaResult* r : batch) {
    if (!r->ok) continue;
    for (const StoredDetection& sd : r->detections) {
      if (Finite(sd.detection)) out.emplace_back(r->media_id, &sd);  // NaN/inf carry no meaning
    }
  }
  return out;
}

Status CopyDetections(Connection& conn, int64_t model_id,
                      const std::vector<std::pair<int64_t, const StoredDetection*>>& dets) {
  std::string data;
  data.reserve(dets.size() * 96);
  const std::string model = std::to_string(model_id);
  for (const auto& [media_id, sd] : dets) {
    const Detection& d = sd->detection;
    data += std::to_string(media_id);
    data += '\t';
    data += model;
    data += '\t';
    AppendCopyText(&data, d.label);
    data += '\t';
    data += std::to_string(d.class_id);
    for (double v : {static_cast<double>(d.score), static_cast<double>(d.box.x1), static_cast<double>(d.box.y1),
                     static_cast<double>(d.box.x2), static_cast<double>(d.box.y2), sd->time_s}) {
      data += '\t';
      AppendCopyReal(&data, v);
    }
    data += '\n';
  }
  auto copied = conn.CopyIn(
      "COPY detections (media_id, model_id, label, class_id, score, x1, y1, x2, y2, time_s) FROM STDIN", data);
  return copied.status();
}

Status InsertDetections(Connection& conn, int64_t model_id,
                        const std::vector<std::pair<int64_t, const StoredDetection*>>& dets) {
  constexpr size_t kRowsPerInsert = 1000;  // 10 parameters a row; PostgreSQL allows 65535
  for (size_t start = 0; start < dets.size(); start += kRowsPerInsert) {
    const size_t end = std::min(dets.size(), start + kRowsPerInsert);
    std::string sql =
        "INSERT INTO detections (media_id, model_id, label, class_id, score, x1, y1, x2, y2, time_s) VALUES ";
    std::vector<Param> params;
    params.reserve((end - start) * 10);
    for (size_t i = start; i < end; ++i) {
      const int base = static_cast<int>(params.size());
      sql += i == start ? "(" : ", (";
      for (int c = 1; c <= 10; ++c) sql += (c > 1 ? ", $" : "$") + std::to_string(base + c);
      sql += ")";
      const Detection& d = dets[i].second->detection;
      params.push_back(Param::Int(dets[i].first));
      params.push_back(Param::Int(model_id));
      params.push_back(Param::Text(d.label));
      params.push_back(Param::Int(d.class_id));
      for (double v : {static_cast<double>(d.score), static_cast<double>(d.box.x1), static_cast<double>(d.box.y1),
                       static_cast<double>(d.box.x2), static_cast<double>(d.box.y2), dets[i].second->time_s}) {
        params.push_back(Param::Real(v));
      }
    }
    MDX_RETURN_IF_ERROR(conn.Query(sql, params).status());
  }
  return Status::Ok();
}

}  // namespace

Status WriteBatch(Connection& conn, int64_t model_id, int64_t run_id, const std::vector<MediaResult>& results,
                  DetectionInsert insert) {
  if (results.empty()) return Status::Ok();
  // The last result per media id, in the order of first appearance.
  std::unordered_map<int64_t, size_t> last;
  for (size_t i = 0; i < results.size(); ++i) last[results[i].media_id] = i;
  std::vector<const MediaResult*> batch;
  int64_t done = 0, failed = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    (results[i].ok ? done : failed)++;
    if (last[results[i].media_id] == i) batch.push_back(&results[i]);
  }

  // The batch's rows, by COPY, into a session-private table (emptied at every commit).
  MDX_RETURN_IF_ERROR(conn.Exec(
      "CREATE TEMP TABLE IF NOT EXISTS mdx_batch (media_id BIGINT NOT NULL, ok BOOLEAN NOT NULL, error BYTEA NOT NULL, "
      "content_hash TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, orientation INTEGER NOT NULL, "
      "capture_time BIGINT NOT NULL, duration_s DOUBLE PRECISION NOT NULL) ON COMMIT DELETE ROWS; "
      "DELETE FROM mdx_batch"));
  std::string rows;
  for (const MediaResult* r : batch) {
    rows += std::to_string(r->media_id);
    rows += r->ok ? "\tt\t" : "\tf\t";
    AppendCopyBytes(&rows, r->ok ? std::string() : r->error);
    rows += '\t';
    AppendCopyText(&rows, r->content_hash);
    rows += '\t' + std::to_string(r->width) + '\t' + std::to_string(r->height) + '\t' + std::to_string(r->orientation) +
            '\t' + std::to_string(r->capture_time) + '\t';
    AppendCopyReal(&rows, r->duration_s);
    rows += '\n';
  }
  MDX_RETURN_IF_ERROR(conn.CopyIn("COPY mdx_batch FROM STDIN", rows).status());

  // The ids as an array too: the temporary table has no statistics, and joined alone the planner
  // guesses it large and scans media and detections whole (measured: 3x slower per batch at
  // 160k detections, growing); "= ANY($ids)" lets it use the indexes.
  std::string ids = "{";
  for (const MediaResult* r : batch) ids += (ids.size() > 1 ? "," : "") + std::to_string(r->media_id);
  ids += "}";
  auto missing = conn.Query(
      "SELECT b.media_id FROM mdx_batch b WHERE NOT EXISTS (SELECT 1 FROM media m WHERE m.id = b.media_id) LIMIT 1");
  if (!missing.ok()) return missing.status();
  if (missing->rows() > 0) {
    return NotFound(conn.name() + ": batch result for media id " + missing->Text(0, 0) +
                    ", which is not in the catalog");
  }

  // One statement: metadata, old detections gone, analysis rows, live run counts. Its parts
  // see one snapshot and touch different tables, so their order does not matter.
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  MDX_RETURN_IF_ERROR(
      conn.Query("WITH meta AS (UPDATE media m SET "
                 "content_hash = CASE WHEN b.content_hash <> '' THEN b.content_hash ELSE m.content_hash END, "
                 "width = CASE WHEN b.ok THEN b.width ELSE m.width END, "
                 "height = CASE WHEN b.ok THEN b.height ELSE m.height END, "
                 "orientation = CASE WHEN b.ok THEN b.orientation ELSE m.orientation END, "
                 "capture_time = CASE WHEN b.ok THEN b.capture_time ELSE m.capture_time END, "
                 "duration_s = CASE WHEN b.ok THEN b.duration_s ELSE m.duration_s END "
                 "FROM mdx_batch b WHERE m.id = b.media_id AND m.id = ANY($6::bigint[]) RETURNING 1), "
                 "old AS (DELETE FROM detections d USING mdx_batch b "
                 "WHERE d.media_id = b.media_id AND d.media_id = ANY($6::bigint[]) AND d.model_id = $1 RETURNING 1), "
                 "counts AS (UPDATE runs SET done = done + $4, failed = failed + $5 WHERE id = $2 RETURNING 1) "
                 "INSERT INTO analyses (media_id, model_id, status, error, run_id, analysed_at, size, mtime_ns) "
                 "SELECT b.media_id, $1, CASE WHEN b.ok THEN 'done' ELSE 'failed' END, b.error, $2, $3, m.size, "
                 "m.mtime_ns FROM mdx_batch b JOIN media m ON m.id = b.media_id AND m.id = ANY($6::bigint[]) "
                 "ON CONFLICT (media_id, model_id) DO UPDATE SET status = excluded.status, error = excluded.error, "
                 "run_id = excluded.run_id, analysed_at = excluded.analysed_at, size = excluded.size, "
                 "mtime_ns = excluded.mtime_ns",
                 {Param::Int(model_id), run_id > 0 ? Param::Int(run_id) : Param::Null(), Param::Int(now),
                  Param::Int(done), Param::Int(failed), Param::Text(ids)})
          .status());

  const auto dets = DetectionsOf(batch);
  if (dets.empty()) return Status::Ok();
  return insert == DetectionInsert::kCopy ? CopyDetections(conn, model_id, dets)
                                          : InsertDetections(conn, model_id, dets);
}

}  // namespace mediadex::catalog::postgres
