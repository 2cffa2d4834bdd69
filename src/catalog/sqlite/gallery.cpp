// The gallery reads of the SQLite catalog (catalog.h, "Gallery reads"): filtered, keyset-paged
// media lists, one file with its detections, label counts and paged errors. Every value reaches
// SQLite as a bound parameter; only the shape of the SQL (which filters are present) varies.
#include "catalog/sqlite/gallery_sql.h"
#include "catalog/sqlite/sqlite_catalog.h"
#include "catalog/sqlite/statement.h"

namespace mediadex::catalog::sqlite {
namespace {

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
  // media_labels has one row per present file and label: counting them walks the index.
  Query q;
  q.Add("SELECT label, COUNT(*) AS files FROM media_labels WHERE model_id = ?", *model);
  if (!prefix.empty()) q.Add(" AND label LIKE ? ESCAPE '\\'", LikeLiteral(prefix) + "%");
  q.Add(" GROUP BY label ORDER BY files DESC, label LIMIT ?", static_cast<int64_t>(limit > 0 ? limit : 10));
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
