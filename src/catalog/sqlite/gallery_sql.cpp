#include "catalog/sqlite/gallery_sql.h"

namespace mediadex::catalog::sqlite {

void Query::BindAll(Stmt& stmt) const {
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

std::string Placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

const char* const kItemColumns =
    "m.id, m.path, m.kind, m.width, m.height, m.orientation, m.capture_time, m.duration_s, m.content_hash, "
    "CASE WHEN a.status IS NOT NULL AND a.size = m.size AND a.mtime_ns = m.mtime_ns THEN a.status "
    "ELSE 'pending' END AS st, "
    "CASE WHEN a.status IS NOT NULL AND a.size = m.size AND a.mtime_ns = m.mtime_ns THEN a.error "
    "ELSE '' END AS err";

namespace {

AnalysisStatus StatusFrom(const std::string& text) {
  if (text == "done") return AnalysisStatus::kDone;
  if (text == "failed") return AnalysisStatus::kFailed;
  return AnalysisStatus::kPending;
}

}  // namespace

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

}  // namespace mediadex::catalog::sqlite
