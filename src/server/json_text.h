// JSON text helpers for the API: file names and messages are bytes, written as valid UTF-8
// with non-UTF-8 bytes escaped (core/text.h), and dumps never throw.
#ifndef MEDIADEX_SERVER_JSON_TEXT_H_
#define MEDIADEX_SERVER_JSON_TEXT_H_

#include <cstdint>
#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "core/text.h"

namespace mediadex::server {

inline std::string Text(const std::string& bytes) { return BytesToUtf8(bytes); }

inline std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

inline std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// "2024-05-01T12:00:00Z"
inline std::string IsoTime(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_JSON_TEXT_H_
