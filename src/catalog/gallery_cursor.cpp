#include "catalog/gallery_cursor.h"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>

namespace mediadex::catalog {

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

}  // namespace mediadex::catalog
