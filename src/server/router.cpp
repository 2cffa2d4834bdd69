#include "server/router.h"

namespace mediadex::server {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

void Router::Add(const std::string& method, const std::string& pattern, RouteFn fn, bool on_io) {
  routes_.push_back({method, pattern, SplitPath(pattern), std::move(fn), on_io});
}

Router::Match Router::Find(const std::string& method, const std::string& path) const {
  const auto segments = SplitPath(path);
  Match match;
  for (const Route& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    Params params;
    bool ok = true;
    for (size_t i = 0; i < segments.size() && ok; ++i) {
      const std::string& want = route.segments[i];
      if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
        if (segments[i].empty())
          ok = false;
        else
          params.push_back(segments[i]);
      } else {
        ok = want == segments[i];
      }
    }
    if (!ok) continue;
    if (route.method != method) {
      match.wrong_method = true;
      match.pattern = route.pattern;
      continue;
    }
    match.fn = &route.fn;
    match.pattern = route.pattern;
    match.params = std::move(params);
    match.on_io = route.on_io;
    match.wrong_method = false;
    return match;
  }
  return match;
}

}  // namespace mediadex::server
