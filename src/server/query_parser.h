// The gallery's search box, parsed on the server into a catalog filter:
//   dog person        every word a label, all present
//   dog|cat           any of these labels (one group; groups AND together)
//   score>0.6         minimum score (score>=0.6 too)
//   folder:2024/trip  after:2024-06-01  before:2024-12-31  status:failed
// An unknown key or a malformed value is InvalidArgument with a message for the user.
#ifndef MEDIADEX_SERVER_QUERY_PARSER_H_
#define MEDIADEX_SERVER_QUERY_PARSER_H_

#include <cstdint>
#include <string>

#include "catalog/catalog.h"
#include "core/status.h"

namespace mediadex::server {

// Adds what `q` says to `*filter` (which may already hold explicit parameters).
Status ParseSearchQuery(const std::string& q, catalog::MediaFilter* filter);

// "2024-06-01" -> unix seconds at 00:00 UTC; InvalidArgument naming `what` otherwise.
Result<int64_t> ParseDate(const std::string& text, const std::string& what);

// "0.6" in [0, 1]; InvalidArgument naming `what` otherwise.
Result<float> ParseScore(const std::string& text, const std::string& what);

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_QUERY_PARSER_H_
