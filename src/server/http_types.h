// The server's own view of HTTP: plain structs, so that only http_server.cpp includes Beast.
// Handlers get a Request and answer through a Reply, from any thread, exactly once.
#ifndef MEDIADEX_SERVER_HTTP_TYPES_H_
#define MEDIADEX_SERVER_HTTP_TYPES_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mediadex::server {

struct Request {
  std::string method;                          // "GET", "POST" ...
  std::string target;                          // as sent: path and query
  std::string path;                            // percent-decoded path, no query
  std::string raw_path;                        // path as sent (not decoded), for traversal checks
  std::map<std::string, std::string> query;    // decoded; the last value of a repeated key
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  std::string Query(const std::string& key) const {
    auto it = query.find(key);
    return it == query.end() ? std::string() : it->second;
  }
};

// A connection that stays open for Server-Sent Events. Send() queues text for the client;
// false once the client is gone (then drop the sink).
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual bool Send(std::string text) = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set instead of `body`: the file's bytes [file_offset, file_offset + file_length).
  std::string file_path;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  bool file_whole = false;  // the whole file (file_length = its size)
  // An event stream: `body` is sent first, then the connection stays open and `on_open` gets
  // the sink that writes further events.
  bool event_stream = false;
  std::function<void(std::shared_ptr<StreamSink>)> on_open;
  std::string route;  // the route template, for metrics ("/api/media/{id}")

  Response& Set(const std::string& name, const std::string& value) {
    headers.emplace_back(name, value);
    return *this;
  }
};

using Reply = std::function<void(Response)>;
using Handler = std::function<void(Request, Reply)>;

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_HTTP_TYPES_H_
