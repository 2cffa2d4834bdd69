// `mediadex serve`'s server: the HTTP server, the API routes, the thumbnail maker, the event hub,
// the metrics and the index-run manager, wired together.
//
//   server::ServerOptions options;  options.port = 0;  ...
//   server::Server server(options, catalog_factory, &runner);
//   auto started = server.Start();           // binds; server.port() is the bound port
//   server.Run();                            // until SIGINT/SIGTERM: cancels a run, returns
#ifndef MEDIADEX_SERVER_SERVER_H_
#define MEDIADEX_SERVER_SERVER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/catalog_pool.h"
#include "server/run_manager.h"

namespace mediadex::server {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  int port = 8080;
  std::string token;  // required beyond loopback
  std::vector<std::string> libraries;
  std::string dev_web_dir;      // --dev: serve web/ from here on every request
  std::string thumb_cache_dir;  // "<catalog>.thumbs"
  uint64_t thumb_cache_max = 2ull << 30;
  uint64_t max_pixels = 100'000'000;
  int io_threads = 2;
  int work_threads = 4;   // catalog reads
  int thumb_threads = 2;  // decoding
  int read_connections = 4;
  int max_connections = 1024;
  std::string version;
};

class Server {
 public:
  Server(ServerOptions options, CatalogFactory catalogs, IndexRunner* runner);
  ~Server();
  // Checks the options (a non-loopback bind needs a token) and binds.
  Status Start();
  int port() const;
  void Run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_SERVER_H_
