#include "cli/catalog_open.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "catalog/postgres/pg_connection.h"
#include "core/text.h"

namespace mediadex::cli {
namespace fs = std::filesystem;
namespace {

double Round(double v, double scale) { return std::round(v * scale) / scale; }

}  // namespace

std::string DefaultCatalogPath() {
  if (const char* data = std::getenv("XDG_DATA_HOME"); data && *data) {
    return (fs::path(data) / "mediadex" / "catalog.db").string();
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return (fs::path(home) / ".local" / "share" / "mediadex" / "catalog.db").string();
  }
  return "mediadex-catalog.db";
}

using catalog::postgres::IsPostgresUrl;

std::string CatalogPathFromConfig(const Config& config) {
  std::string setting = config.Get("catalog");
  if (setting.empty()) return DefaultCatalogPath();
  if (IsPostgresUrl(setting)) return catalog::postgres::RedactUrl(setting);
  if (setting.rfind("sqlite:", 0) == 0) setting = setting.substr(7);
  return setting;
}

Result<std::unique_ptr<catalog::Catalog>> OpenCatalogFromConfig(const Config& config, bool create) {
  // A PostgreSQL database is created by its administrator; the schema is ours to migrate.
  if (IsPostgresUrl(config.Get("catalog"))) return catalog::OpenCatalog(config.Get("catalog"));
  const std::string path = CatalogPathFromConfig(config);
  std::error_code ec;
  if (create) {
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty() && !fs::exists(parent, ec)) {
      fs::create_directories(parent, ec);
      if (ec) return IOError(parent.string() + ": cannot create the catalog folder: " + ec.message());
    }
  } else if (!fs::exists(path, ec)) {
    return NotFound(path + ": no catalog yet \xE2\x80\x94 run `mediadex index FOLDER` first");
  }
  return catalog::OpenCatalog(path);
}

Result<std::optional<catalog::RunLock>> LockCatalogForRun(const Config& config) {
  const std::string setting = config.Get("catalog");
  auto lock = catalog::RunLock::Acquire(IsPostgresUrl(setting) ? setting : CatalogPathFromConfig(config));
  if (!lock.ok()) return lock.status();
  return std::optional<catalog::RunLock>(std::move(lock).value());
}

nlohmann::json DetectionJson(const catalog::StoredDetection& stored) {
  const Detection& d = stored.detection;
  nlohmann::json j = {{"label", BytesToUtf8(d.label)},
                      {"class", d.class_id},
                      {"score", Round(d.score, 1e4)},
                      {"box", {Round(d.box.x1, 10), Round(d.box.y1, 10), Round(d.box.x2, 10), Round(d.box.y2, 10)}}};
  if (stored.time_s >= 0) j["time"] = Round(stored.time_s, 1e3);
  return j;
}

std::string FormatUnixTime(int64_t seconds) {
  if (seconds == 0) return "";
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

const char* MediaKindName(catalog::MediaKind kind) {
  return kind == catalog::MediaKind::kVideo ? "video" : "image";
}

std::string OneLine(const std::string& path) {
  std::string out;
  for (char c : BytesToUtf8(path)) {  // backslashes doubled, invalid UTF-8 bytes as \xNN
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace mediadex::cli
