#include "catalog/sqlite/gallery_index.h"

namespace mediadex::catalog::sqlite {
namespace {

// Runs a cached statement with `bind` applied.
template <typename Bind>
Status RunStmt(Connection& conn, const char* sql, Bind bind) {
  Status status;
  sqlite3_stmt* raw = nullptr;
  if (!conn.Prepare(sql, &raw, &status)) return status;
  Stmt stmt(raw, conn.db(), &conn.path());
  bind(stmt);
  return stmt.Run();
}

}  // namespace

std::string FolderOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

Status FolderSetter::Set(int64_t media_id, const std::string& path) {
  const std::string folder = FolderOf(path);
  auto it = ids_.find(folder);
  if (it == ids_.end()) {
    MDX_RETURN_IF_ERROR(RunStmt(conn_, "INSERT INTO folders (path) VALUES (?) ON CONFLICT (path) DO NOTHING",
                                [&](Stmt& s) { s.Bind(1, folder); }));
    auto id = [&]() -> Result<int64_t> {
      Status status;
      sqlite3_stmt* raw = nullptr;
      if (!conn_.Prepare("SELECT id FROM folders WHERE path = ?", &raw, &status)) return status;
      Stmt stmt(raw, conn_.db(), &conn_.path());
      stmt.Bind(1, folder);
      if (!stmt.Step(&status)) return status.ok() ? IOError(conn_.path() + ": folder row vanished") : status;
      return stmt.Int(0);
    }();
    if (!id.ok()) return id.status();
    it = ids_.emplace(folder, *id).first;
  }
  return RunStmt(conn_, "UPDATE media SET folder_id = ? WHERE id = ?",
                 [&](Stmt& s) { s.Bind(1, it->second).Bind(2, media_id); });
}

Status RefreshLabels(Connection& conn, int64_t media_id, int64_t model_id) {
  if (model_id > 0) {
    MDX_RETURN_IF_ERROR(RunStmt(conn, "DELETE FROM media_labels WHERE media_id = ? AND model_id = ?",
                                [&](Stmt& s) { s.Bind(1, media_id).Bind(2, model_id); }));
    return RunStmt(conn,
                   "INSERT INTO media_labels (media_id, model_id, label, best_score) "
                   "SELECT media_id, model_id, label, MAX(score) FROM detections WHERE media_id = ?1 AND model_id = ?2 "
                   "AND EXISTS (SELECT 1 FROM media WHERE id = ?1 AND gone = 0) GROUP BY label",
                   [&](Stmt& s) { s.Bind(1, media_id).Bind(2, model_id); });
  }
  MDX_RETURN_IF_ERROR(DropLabels(conn, media_id));
  return RunStmt(conn,
                 "INSERT INTO media_labels (media_id, model_id, label, best_score) "
                 "SELECT media_id, model_id, label, MAX(score) FROM detections WHERE media_id = ?1 "
                 "AND EXISTS (SELECT 1 FROM media WHERE id = ?1 AND gone = 0) GROUP BY model_id, label",
                 [&](Stmt& s) { s.Bind(1, media_id); });
}

Status DropLabels(Connection& conn, int64_t media_id) {
  return RunStmt(conn, "DELETE FROM media_labels WHERE media_id = ?", [&](Stmt& s) { s.Bind(1, media_id); });
}

}  // namespace mediadex::catalog::sqlite
