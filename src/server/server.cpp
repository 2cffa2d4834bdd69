#include "server/server.h"

#include <spdlog/spdlog.h>

#include "server/api.h"
#include "server/auth.h"
#include "server/http_server.h"
#include "server/work_pool.h"

namespace mediadex::server {

// Sent with every answer (docs/api.md, "Authentication").
constexpr const char* kCsp =
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

struct Server::Impl {
  ServerOptions options;
  // Declared (so built) before, and destroyed after, everything that answers through it: the
  // pools below finish their work while its io_context still exists.
  HttpServer http;
  CatalogPool catalogs;
  Metrics metrics;
  EventHub hub;
  Thumbnails thumbs;
  RunManager runs;
  StaticAssets assets;
  Auth auth;
  Router router;
  ApiContext ctx;
  WorkPool work;

  Impl(ServerOptions o, CatalogFactory factory, IndexRunner* runner)
      : options(std::move(o)),
        http([this](Request req, Reply reply) { Handle(std::move(req), std::move(reply)); },
             HttpLimits{16 * 1024, 64 * 1024, options.max_connections, 30}, options.io_threads),
        catalogs(std::move(factory), options.read_connections),
        thumbs(ThumbnailOptions{options.thumb_cache_dir, options.thumb_cache_max, options.thumb_threads,
                                options.max_pixels, 30}),
        runs(runner, options.libraries, &hub, &metrics),
        assets(options.dev_web_dir),
        auth(options.token),
        ctx{&catalogs, &thumbs, &runs, &hub, &metrics, &assets, options.libraries, options.version},
        work(options.work_threads, 4096) {
    RegisterSystemRoutes(router, ctx);
    RegisterMediaRoutes(router, ctx);
    RegisterRunRoutes(router, ctx);
  }

  // Adds the security headers and counts the answer under its route template.
  Reply Finish(Reply reply, std::string route) {
    return [this, reply = std::move(reply), route = std::move(route)](Response r) {
      r.Set("Content-Security-Policy", kCsp);
      r.Set("X-Content-Type-Options", "nosniff");
      r.Set("Referrer-Policy", "no-referrer");
      r.Set("X-Frame-Options", "DENY");
      metrics.CountRequest(route, r.status);
      reply(std::move(r));
    };
  }

  void Handle(Request req, Reply raw_reply) {
    Response login;
    if (auth.CookieLogin(req, &login)) return Finish(std::move(raw_reply), "/")(std::move(login));
    if (!auth.Allowed(req)) {
      Response r =
          ErrorResponse(401, "a token is required: send Authorization: Bearer <token>, or open /?token=<token>");
      r.Set("WWW-Authenticate", "Bearer");
      return Finish(std::move(raw_reply), "unauthorized")(std::move(r));
    }
    Router::Match match = router.Find(req.method, req.path);
    if (match.wrong_method) {
      Response r = ErrorResponse(405, req.method + " is not allowed on " + match.pattern);
      return Finish(std::move(raw_reply), match.pattern)(std::move(r));
    }
    if (!match.fn) {
      Reply reply = Finish(std::move(raw_reply), "static");
      Response r;
      if (req.method == "GET" && req.path.rfind("/api/", 0) != 0 && assets.Find(req.path, &r))
        return reply(std::move(r));
      return reply(ErrorResponse(404, "not found"));
    }
    Reply reply = Finish(std::move(raw_reply), match.pattern);
    if (match.on_io) return (*match.fn)(req, match.params, reply);
    // Catalog reads block: run them on the work pool, never on an I/O thread.
    const RouteFn* fn = match.fn;
    auto task = [fn, req = std::move(req), params = std::move(match.params), reply]() {
      try {
        (*fn)(req, params, reply);
      } catch (const std::exception& e) {
        reply(ErrorResponse(500, std::string("internal error: ") + e.what()));
      }
    };
    if (!work.Post(task)) {
      Response r = ErrorResponse(503, "the server is overloaded; retry");
      r.Set("Retry-After", "1");
      reply(std::move(r));
    }
  }
};

Server::Server(ServerOptions options, CatalogFactory catalogs, IndexRunner* runner)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(catalogs), runner)) {}

Server::~Server() = default;

Status Server::Start() {
  const ServerOptions& o = impl_->options;
  if (!IsLoopback(o.bind) && o.token.empty()) {
    return InvalidArgument("--bind " + o.bind +
                           " is reachable beyond this machine: set --token (or MEDIADEX_TOKEN) so requests need it");
  }
  MDX_RETURN_IF_ERROR(impl_->http.Listen(o.bind, o.port));
  // Comments keep idle event streams (and proxies in between) from timing out.
  EventHub* hub = &impl_->hub;
  impl_->http.Every(15, [hub] { hub->Ping(); });
  return Status::Ok();
}

int Server::port() const { return impl_->http.port(); }

void Server::Run() {
  impl_->http.Run([this] {
    spdlog::info("stopping: no new connections; an index run commits its finished batches");
    // Cancel only: waiting here would hold an I/O thread; ~Impl (RunManager) waits for it.
    if (impl_->runs.running()) (void)impl_->runs.Cancel();
  });
  impl_->runs.CancelAndWait();
}

}  // namespace mediadex::server
