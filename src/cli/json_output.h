// JSON output that is always valid and never aborts: every string that may hold arbitrary
// bytes (file names, error messages, anything read from the catalog) goes through JsonText,
// which keeps valid UTF-8 and escapes the rest losslessly (core/text.h: `\` -> `\\`, an invalid
// byte -> `\xHH`; Utf8ToBytes gives the exact bytes back). DumpJson is the last safety net: a
// string that was missed is written with U+FFFD instead of throwing nlohmann's type_error 316.
#ifndef MEDIADEX_CLI_JSON_OUTPUT_H_
#define MEDIADEX_CLI_JSON_OUTPUT_H_

#include <nlohmann/json.hpp>
#include <string>

#include "core/text.h"

namespace mediadex::cli {

inline std::string JsonText(const std::string& bytes) { return BytesToUtf8(bytes); }

template <typename Json>
std::string DumpJson(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace);
}

}  // namespace mediadex::cli

#endif  // MEDIADEX_CLI_JSON_OUTPUT_H_
