// The HTTP/1.1 server: Boost.Beast over one Asio io_context run by a few threads. Asynchronous,
// so an open event stream costs a socket, not a thread. Limits: header and body size, open
// connections, idle time. Only http_server.cpp includes Beast (it is slow to compile).
#ifndef MEDIADEX_SERVER_HTTP_SERVER_H_
#define MEDIADEX_SERVER_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "server/http_types.h"

namespace mediadex::server {

struct HttpLimits {
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 64 * 1024;
  int max_connections = 1024;
  int idle_timeout_s = 30;  // a connection with no request for this long is closed
};

class HttpServer {
 public:
  HttpServer(Handler handler, HttpLimits limits, int threads);
  ~HttpServer();

  // Binds and listens; port 0 picks a free one (see port()). InvalidArgument/IOError naming
  // the address when it cannot.
  Status Listen(const std::string& address, int port);
  int port() const;

  // Serves until Stop() or SIGINT/SIGTERM; on a signal, calls `on_signal` first (on an I/O
  // thread) and then stops. Returns when every I/O thread has finished.
  void Run(std::function<void()> on_signal);
  void Stop();  // thread-safe: stop accepting, close the I/O loop

  // Runs `fn` after `seconds` and then every `seconds` on an I/O thread until Stop().
  void Every(int seconds, std::function<void()> fn);

  struct Impl;  // http_server.cpp (public so its session class can name it)

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_HTTP_SERVER_H_
