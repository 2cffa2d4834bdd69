// Arbitrary bytes (a Linux file name) as valid UTF-8 text, losslessly: for JSON, CSV and any
// other output that must be UTF-8. No third-party header, so the CLI, the server and the tests
// all write and read the same encoding.
//
//   BytesToUtf8("caf\xC3\xA9.jpg")   -> "café.jpg"        (valid UTF-8 is kept as it is)
//   BytesToUtf8("caf\xE9.jpg")       -> "caf\\xe9.jpg"    (an invalid byte -> \xHH, lower-case hex)
//   BytesToUtf8("a\\b.jpg")          -> "a\\\\b.jpg"      (a backslash is doubled)
//   Utf8ToBytes(BytesToUtf8(s)) == s for every s.
//
// Valid UTF-8 means RFC 3629: no overlong forms, no surrogates (U+D800..U+DFFF), nothing above
// U+10FFFF; each byte of an ill-formed sequence is escaped on its own. Names without a
// backslash and with valid UTF-8 (nearly all) come out byte for byte as they went in.
#ifndef MEDIADEX_CORE_TEXT_H_
#define MEDIADEX_CORE_TEXT_H_

#include <string>
#include <string_view>

namespace mediadex {

// True when `bytes` is well-formed UTF-8 (RFC 3629).
bool IsValidUtf8(std::string_view bytes);

// Valid UTF-8 for any bytes, reversible by Utf8ToBytes: `\` -> `\\`, each byte that is not
// part of a well-formed UTF-8 sequence -> `\xHH`; everything else unchanged.
std::string BytesToUtf8(std::string_view bytes);

// The inverse: `\\` -> `\`, `\xHH` (either case) -> that byte. A backslash followed by anything
// else is kept as it is (BytesToUtf8 never writes one), so any text decodes without an error.
std::string Utf8ToBytes(std::string_view text);

}  // namespace mediadex

#endif  // MEDIADEX_CORE_TEXT_H_
