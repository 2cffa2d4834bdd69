// What the catalog-reading subcommands (search, status, errors, export) and `index` share: where
// the catalog lives, opening it from the settings, and how a stored detection prints as JSON.
#ifndef MEDIADEX_CLI_CATALOG_OPEN_H_
#define MEDIADEX_CLI_CATALOG_OPEN_H_

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "catalog/catalog.h"
#include "catalog/run_lock.h"
#include "core/config.h"
#include "core/status.h"

namespace mediadex::cli {

// $XDG_DATA_HOME/mediadex/catalog.db, else ~/.local/share/mediadex/catalog.db, else
// ./mediadex-catalog.db when neither variable is set.
std::string DefaultCatalogPath();

// The catalog named by the "catalog" setting (empty = DefaultCatalogPath()).
//   create = true (index): creates the folder and the file as needed.
//   create = false (queries): a missing file is NotFound "<path>: no catalog yet — run ...".
// A postgres:// or postgresql:// URL opens that PostgreSQL database (migrating its schema); the
// database itself must exist.
Result<std::unique_ptr<catalog::Catalog>> OpenCatalogFromConfig(const Config& config, bool create);

// For `index`: holds the catalog's run lock (catalog/run_lock.h: an flock beside an SQLite file,
// an advisory lock on a PostgreSQL catalog) for as long as the returned value lives; Busy
// naming the other run when one holds it.
Result<std::optional<catalog::RunLock>> LockCatalogForRun(const Config& config);

// The catalog file the "catalog" setting names (the default path when empty; "sqlite:" prefix
// removed), or its PostgreSQL URL with the password shown as "***". For messages.
std::string CatalogPathFromConfig(const Config& config);

// {"label", "class", "score", "box": [x1, y1, x2, y2]} plus "time" (seconds) for video frames.
// Scores are rounded to 4 decimals and coordinates to 0.1 px, as `detect --json` prints them.
nlohmann::json DetectionJson(const catalog::StoredDetection& stored);

// "2024-05-01T12:00:00Z" (UTC); "" for 0.
std::string FormatUnixTime(int64_t seconds);

const char* MediaKindName(catalog::MediaKind kind);  // "image" | "video"

// A path for one line of text output: control characters (a newline in a file name) written as
// \n, \t, \r or \xNN, bytes that are not UTF-8 as \xNN and backslashes doubled (core/text.h's
// escapes), so one file stays one line of valid text. JSON output uses JsonText (json_output.h).
std::string OneLine(const std::string& path);

}  // namespace mediadex::cli

#endif  // MEDIADEX_CLI_CATALOG_OPEN_H_
