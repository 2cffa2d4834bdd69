#include "catalog/sqlite/gallery_sql.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

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

std::string Hex(const std::string& text) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : text) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

bool Unhex(const std::string& hex, std::string* out) {
  if (hex.size() % 2 != 0 || hex.size() > 8192) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

std::string EncodeCursor(const MediaCursor& c) {
  char buf[96];
  if (c.kind == 'd')
    std::snprintf(buf, sizeof(buf), "d|%" PRId64 "|%" PRId64, c.time, c.id);
  else
    std::snprintf(buf, sizeof(buf), "s|%.17g|%" PRId64, c.score, c.id);
  return Hex(buf);
}

bool DecodeCursor(const std::string& text, char kind, MediaCursor* c) {
  std::string raw;
  if (!Unhex(text, &raw) || raw.size() < 5 || raw[0] != kind || raw[1] != '|') return false;
  const size_t bar = raw.find('|', 2);
  if (bar == std::string::npos) return false;
  const std::string key = raw.substr(2, bar - 2), id = raw.substr(bar + 1);
  char* end = nullptr;
  c->kind = kind;
  if (kind == 'd') {
    c->time = std::strtoll(key.c_str(), &end, 10);
  } else {
    c->score = std::strtod(key.c_str(), &end);
  }
  if (end == key.c_str() || *end != '\0') return false;
  c->id = std::strtoll(id.c_str(), &end, 10);
  return end != id.c_str() && *end == '\0' && c->id > 0;
}

std::string LikeLiteral(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
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
