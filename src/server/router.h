// Routes by method and path template ("/api/media/{id}"); the template names the route in
// metrics, so no path from a request ever becomes a label.
#ifndef MEDIADEX_SERVER_ROUTER_H_
#define MEDIADEX_SERVER_ROUTER_H_

#include <functional>
#include <string>
#include <vector>

#include "server/http_types.h"

namespace mediadex::server {

using Params = std::vector<std::string>;  // the {..} segments, in order
using RouteFn = std::function<void(const Request&, const Params&, Reply)>;

class Router {
 public:
  // `on_io`: cheap, never blocks (runs on the I/O thread); otherwise the work pool runs it.
  void Add(const std::string& method, const std::string& pattern, RouteFn fn, bool on_io = false);

  struct Match {
    const RouteFn* fn = nullptr;
    std::string pattern;
    Params params;
    bool on_io = false;
    bool wrong_method = false;  // the path matched, with another method
  };
  Match Find(const std::string& method, const std::string& path) const;

 private:
  struct Route {
    std::string method, pattern;
    std::vector<std::string> segments;
    RouteFn fn;
    bool on_io;
  };
  std::vector<Route> routes_;
};

std::vector<std::string> SplitPath(const std::string& path);

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_ROUTER_H_
