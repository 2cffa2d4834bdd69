// The gallery's derived tables (migration 3): media_labels (each present file's best score per
// model and label) and folders (distinct parent directories, media.folder_id). The writers
// (CommitBatch, ApplyScan) call these inside their own transaction, so the derived rows always
// change together with what they are derived from.
#ifndef MEDIADEX_CATALOG_SQLITE_GALLERY_INDEX_H_
#define MEDIADEX_CATALOG_SQLITE_GALLERY_INDEX_H_

#include <cstdint>
#include <string>
#include <unordered_map>

#include "catalog/sqlite/statement.h"
#include "core/status.h"

namespace mediadex::catalog::sqlite {

// "/lib/2024/trip/a.jpg" -> "/lib/2024/trip/" (up to and with the last '/'; "" when none).
std::string FolderOf(const std::string& path);

// Points files at the folders row of their directory, creating it if new. One per write
// transaction: it remembers the ids it has seen (a scan adds many files per folder).
class FolderSetter {
 public:
  explicit FolderSetter(Connection& conn) : conn_(conn) {}
  Status Set(int64_t media_id, const std::string& path);

 private:
  Connection& conn_;
  std::unordered_map<std::string, int64_t> ids_;
};

// Recomputes media_labels of one file from its detections: for one model (model_id > 0) after
// CommitBatch replaced them, or for every model (0) when a file comes back or moves.
Status RefreshLabels(Connection& conn, int64_t media_id, int64_t model_id);

// A gone file leaves the gallery: its media_labels rows go (its detections stay, for a move).
Status DropLabels(Connection& conn, int64_t media_id);

}  // namespace mediadex::catalog::sqlite

#endif  // MEDIADEX_CATALOG_SQLITE_GALLERY_INDEX_H_
