#include "server/http_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <chrono>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

namespace mediadex::server {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

// %XX decoding; false on a malformed escape or a NUL byte (never a valid path or value).
bool PercentDecode(const std::string& in, bool plus_is_space, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      auto hex = [](char h) -> int {
        if (h >= '0' && h <= '9') return h - '0';
        h = static_cast<char>(std::tolower(static_cast<unsigned char>(h)));
        if (h >= 'a' && h <= 'f') return h - 'a' + 10;
        return -1;
      };
      const int hi = hex(in[i + 1]), lo = hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return false;
    out->push_back(c);
  }
  return true;
}

bool ParseTarget(const std::string& target, Request* req) {
  const size_t q = target.find('?');
  req->raw_path = target.substr(0, q);
  if (!PercentDecode(req->raw_path, false, &req->path)) return false;
  if (q == std::string::npos) return true;
  const std::string query = target.substr(q + 1);
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(start, end - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      std::string key, value;
      if (!PercentDecode(pair.substr(0, eq), true, &key)) return false;
      if (eq != std::string::npos && !PercentDecode(pair.substr(eq + 1), true, &value)) return false;
      req->query[key] = value;
    }
    start = end + 1;
  }
  return true;
}

const char* Reason(int status) { return http::obsolete_reason(static_cast<http::status>(status)).data(); }

}  // namespace

struct HttpServer::Impl {
  Handler handler;
  HttpLimits limits;
  int threads;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::atomic<int> connections{0};
  std::vector<std::unique_ptr<net::steady_timer>> timers;  // Every()

  Impl(Handler h, HttpLimits l, int t) : handler(std::move(h)), limits(l), threads(t) {}
  void Accept();
};

namespace {

// One client connection: reads requests one at a time (keep-alive), hands each to the handler,
// writes the answer. For an event stream, it becomes a StreamSink: writes queue in order.
class Session : public std::enable_shared_from_this<Session>, public StreamSink {
 public:
  Session(tcp::socket socket, HttpServer::Impl& server) : stream_(std::move(socket)), server_(server) {}
  ~Session() override { server_.connections.fetch_sub(1); }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

  bool Send(std::string text) override {
    if (closed_.load()) return false;
    net::post(stream_.get_executor(),
              [self = shared_from_this(), text = std::move(text)]() mutable { self->Queue(std::move(text)); });
    return true;
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.limits.max_header_bytes));
    parser_->body_limit(server_.limits.max_body_bytes);
    stream_.expires_after(std::chrono::seconds(server_.limits.idle_timeout_s));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::header_limit) return Fail(431, "request headers too large");
    if (ec == http::error::body_limit) return Fail(413, "request body too large");
    if (ec == http::error::end_of_stream || ec) return Close();
    auto& msg = parser_->get();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers[name] = std::string(field.value());
    }
    req.body = std::move(msg.body());
    keep_alive_ = msg.keep_alive();
    if (!ParseTarget(req.target, &req) || req.path.empty() || req.path[0] != '/') {
      return Fail(400, "malformed request target");
    }
    stream_.expires_never();  // the handler may take a while (a thumbnail); the answer is on its way
    auto self = shared_from_this();
    server_.handler(std::move(req), [self](Response r) {
      net::post(self->stream_.get_executor(), [self, r = std::move(r)]() mutable { self->Write(std::move(r)); });
    });
  }

  void Fail(int status, const std::string& message) {
    keep_alive_ = false;
    Response r;
    r.status = status;
    r.body = "{\"error\":\"" + message + "\"}";
    r.Set("Content-Type", "application/json; charset=utf-8");
    Write(std::move(r));
  }

  template <typename Body>
  void Fill(http::response<Body>& res, const Response& r) {
    res.result(static_cast<http::status>(r.status));
    res.version(11);
    for (const auto& [name, value] : r.headers) res.set(name, value);
    res.keep_alive(keep_alive_);
  }

  template <typename Message>
  void WriteMessage(std::shared_ptr<Message> res) {
    stream_.expires_after(std::chrono::seconds(60));
    http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) return self->Close();
      self->Read();
    });
  }

  void Write(Response r) {
    if (r.event_stream) return StartStream(std::move(r));
    if (!r.file_path.empty()) {
      beast::error_code ec;
      http::file_body::value_type file;
      file.open(r.file_path.c_str(), beast::file_mode::scan, ec);
      if (!ec && r.file_whole) {
        auto res = std::make_shared<http::response<http::file_body>>();
        Fill(*res, r);
        res->body() = std::move(file);
        res->prepare_payload();
        return WriteMessage(res);
      }
      if (!ec) {
        // A byte range: read it (the caller capped its length) into memory.
        std::string bytes(r.file_length, '\0');
        file.file().seek(r.file_offset, ec);
        size_t got = 0;
        while (!ec && got < bytes.size()) {
          const size_t n = file.file().read(&bytes[got], bytes.size() - got, ec);
          if (n == 0) break;
          got += n;
        }
        if (!ec && got == bytes.size()) {
          r.body = std::move(bytes);
          r.file_path.clear();
        }
      }
      if (!r.file_path.empty()) {
        r = Response{};
        r.status = 404;
        r.body = "{\"error\":\"the file cannot be read\"}";
        r.Set("Content-Type", "application/json; charset=utf-8");
      }
    }
    auto res = std::make_shared<http::response<http::string_body>>();
    Fill(*res, r);
    res->body() = std::move(r.body);
    res->prepare_payload();
    WriteMessage(res);
  }

  // Event streams are written raw: a header block, then events until the client leaves.
  void StartStream(Response r) {
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + Reason(r.status) + "\r\n";
    for (const auto& [name, value] : r.headers) head += name + ": " + value + "\r\n";
    head += "Connection: close\r\n\r\n";
    streaming_ = true;
    Queue(head + r.body);
    if (r.on_open) r.on_open(shared_from_this());
    // Notice a client that leaves: a read completes (with an error) when it closes.
    stream_.expires_never();
    stream_.async_read_some(net::buffer(probe_),
                            [self = shared_from_this()](beast::error_code, size_t) { self->Close(); });
  }

  void Queue(std::string text) {
    if (closed_.load()) return;
    if (queue_.size() > 1000) return Close();  // a client that stopped reading
    queue_.push_back(std::move(text));
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (queue_.empty() || closed_.load()) {
      writing_ = false;
      return;
    }
    writing_ = true;
    net::async_write(stream_.socket(), net::buffer(queue_.front()),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       self->queue_.pop_front();
                       self->WriteNext();
                     });
  }

  void Close() {
    if (closed_.exchange(true)) return;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = true;
  bool streaming_ = false;
  bool writing_ = false;
  std::deque<std::string> queue_;
  std::atomic<bool> closed_{false};
  char probe_[64];
};

}  // namespace

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
      spdlog::warn("accept: {}", ec.message());
    } else if (connections.fetch_add(1) >= limits.max_connections) {
      connections.fetch_sub(1);
      beast::error_code ignored;
      socket.close(ignored);  // over the connection limit: refuse, keep serving the others
    } else {
      // A response goes out as header and body writes; with Nagle the body's last partial
      // segment waited for the client's delayed ACK: 40 ms per keep-alive request (measured).
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), *this)->Start();
    }
    Accept();
  });
}

HttpServer::HttpServer(Handler handler, HttpLimits limits, int threads)
    : impl_(std::make_unique<Impl>(std::move(handler), limits, threads < 1 ? 1 : threads)) {}

HttpServer::~HttpServer() = default;

Status HttpServer::Listen(const std::string& address, int port) {
  beast::error_code ec;
  const auto ip = net::ip::make_address(address, ec);
  if (ec) return InvalidArgument("--bind " + address + ": not an IP address");
  if (port < 0 || port > 65535) return InvalidArgument("--port " + std::to_string(port) + ": out of range 0..65535");
  const tcp::endpoint endpoint(ip, static_cast<unsigned short>(port));
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return IOError(address + ":" + std::to_string(port) + ": cannot listen: " + ec.message());
  return Status::Ok();
}

int HttpServer::port() const {
  beast::error_code ec;
  auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void HttpServer::Every(int seconds, std::function<void()> fn) {
  impl_->timers.push_back(std::make_unique<net::steady_timer>(impl_->ioc));
  net::steady_timer* timer = impl_->timers.back().get();
  auto tick = std::make_shared<std::function<void()>>();
  // The pending wait's handler holds `tick`; the timer lives as long as the server.
  *tick = [timer, seconds, fn = std::move(fn), weak = std::weak_ptr<std::function<void()>>(tick)] {
    timer->expires_after(std::chrono::seconds(seconds));
    timer->async_wait([fn, strong = weak.lock()](beast::error_code ec) {
      if (ec || !strong) return;
      fn();
      (*strong)();
    });
  };
  (*tick)();
}

void HttpServer::Run(std::function<void()> on_signal) {
  net::signal_set signals(impl_->ioc, SIGINT, SIGTERM);
  signals.async_wait([this, on_signal](beast::error_code ec, int) {
    if (ec) return;
    beast::error_code ignored;
    impl_->acceptor.close(ignored);  // stop accepting first
    if (on_signal) on_signal();
    Stop();
  });
  impl_->Accept();
  std::vector<std::thread> threads;
  for (int i = 1; i < impl_->threads; ++i) threads.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : threads) t.join();
}

void HttpServer::Stop() {
  net::post(impl_->ioc, [this] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    for (auto& t : impl_->timers) t->cancel();
  });
  impl_->ioc.stop();
}

}  // namespace mediadex::server
