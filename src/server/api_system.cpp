// /healthz, /api/status, /api/labels, /api/errors, /api/openapi.json, /metrics, and the helpers
// every route shares.
#include <chrono>
#include <cinttypes>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

#include "server/api.h"
#include "server/json_text.h"

namespace mediadex::server {

using nlohmann::json;

Response JsonResponse(int status, const json& body) {
  Response r;
  r.status = status;
  r.body = Dump(body);
  r.Set("Content-Type", "application/json; charset=utf-8");
  r.Set("Cache-Control", "no-store");
  return r;
}

Response ErrorResponse(int status, const std::string& message) {
  return JsonResponse(status, {{"error", Text(message)}});
}

Response StatusResponse(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return ErrorResponse(400, status.message());
    case StatusCode::kNotFound:
      return ErrorResponse(404, status.message());
    case StatusCode::kBusy:
      return ErrorResponse(409, status.message());
    default:
      return ErrorResponse(500, status.ToString());
  }
}

int64_t ParseId(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) return 0;
  return std::strtoll(text.c_str(), nullptr, 10);
}

Result<int64_t> IntParam(const Request& req, const std::string& key, int64_t lo, int64_t hi, int64_t fallback) {
  auto it = req.query.find(key);
  if (it == req.query.end() || it->second.empty()) return fallback;
  const std::string& v = it->second;
  if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument(key + ": '" + v + "' is not a whole number");
  }
  const int64_t n = std::strtoll(v.c_str(), nullptr, 10);
  if (n < lo || n > hi) {
    return InvalidArgument(key + ": " + v + " is out of range " + std::to_string(lo) + ".." + std::to_string(hi));
  }
  return n;
}

void RegisterSystemRoutes(Router& router, ApiContext& ctx) {
  router.Add(
      "GET", "/healthz",
      [](const Request&, const Params&, Reply reply) {
        reply(JsonResponse(200, {{"ok", true}}));
      },
      /*on_io=*/true);

  router.Add("GET", "/api/status", [&ctx](const Request&, const Params&, Reply reply) {
    auto catalog = ctx.catalogs->Acquire();
    if (!catalog.ok()) return reply(StatusResponse(catalog.status()));
    auto summary = (*catalog)->Summary(0);
    if (!summary.ok()) return reply(StatusResponse(summary.status()));
    json top = json::array();
    for (const auto& [label, n] : summary->top_labels) top.push_back({{"label", Text(label)}, {"count", n}});
    json libraries = json::array();
    for (const auto& l : ctx.libraries) libraries.push_back(Text(l));
    reply(JsonResponse(200, {{"total", summary->total},
                             {"done", summary->done},
                             {"failed", summary->failed},
                             {"pending", summary->pending},
                             {"gone", summary->gone},
                             {"run", ctx.runs->running() ? ctx.runs->State() : json()},
                             {"top_labels", top},
                             {"libraries", libraries},
                             {"version", ctx.version}}));
  });

  // Suggestions while typing ask for the same few prefixes again and again, and counting files
  // per label walks every detection: answers are kept for a few seconds (counts lag that much).
  struct LabelCache {
    std::mutex mu;
    std::map<std::string, std::pair<std::chrono::steady_clock::time_point, std::string>> answers;
  };
  auto cache = std::make_shared<LabelCache>();
  router.Add("GET", "/api/labels", [&ctx, cache](const Request& req, const Params&, Reply reply) {
    auto limit = IntParam(req, "limit", 1, 100, 10);
    if (!limit.ok()) return reply(ErrorResponse(400, limit.status().message()));
    const std::string key = std::to_string(*limit) + "|" + req.Query("prefix");
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(cache->mu);
      auto it = cache->answers.find(key);
      if (it != cache->answers.end() && now - it->second.first < std::chrono::seconds(5)) {
        Response r = JsonResponse(200, nullptr);
        r.body = it->second.second;
        return reply(std::move(r));
      }
    }
    auto catalog = ctx.catalogs->Acquire();
    if (!catalog.ok()) return reply(StatusResponse(catalog.status()));
    auto labels = (*catalog)->Labels(req.Query("prefix"), static_cast<int>(*limit), 0);
    if (!labels.ok()) return reply(StatusResponse(labels.status()));
    json out = json::array();
    for (const auto& l : *labels) out.push_back({{"label", Text(l.label)}, {"count", l.files}});
    Response r = JsonResponse(200, {{"labels", out}});
    {
      std::lock_guard<std::mutex> lock(cache->mu);
      if (cache->answers.size() > 1000) cache->answers.clear();
      cache->answers[key] = {now, r.body};
    }
    reply(std::move(r));
  });

  router.Add("GET", "/api/errors", [&ctx](const Request& req, const Params&, Reply reply) {
    auto limit = IntParam(req, "limit", 1, 500, 100);
    if (!limit.ok()) return reply(ErrorResponse(400, limit.status().message()));
    auto catalog = ctx.catalogs->Acquire();
    if (!catalog.ok()) return reply(StatusResponse(catalog.status()));
    auto page = (*catalog)->ErrorsPage(0, static_cast<int>(*limit), req.Query("cursor"));
    if (!page.ok()) return reply(StatusResponse(page.status()));
    json items = json::array();
    for (const auto& e : page->items) {
      items.push_back(
          {{"id", e.media_id}, {"path", Text(e.path)}, {"name", Text(BaseName(e.path))}, {"error", Text(e.error)}});
    }
    reply(JsonResponse(
        200, {{"items", items}, {"next_cursor", page->next_cursor.empty() ? json() : json(page->next_cursor)}}));
  });

  router.Add(
      "GET", "/api/openapi.json",
      [](const Request&, const Params&, Reply reply) {
        Response r;
        if (!StaticAssets::Embedded("openapi.json", &r.body))
          return reply(ErrorResponse(404, "no OpenAPI document built in"));
        r.Set("Content-Type", "application/json; charset=utf-8");
        r.Set("Cache-Control", "no-cache");
        reply(std::move(r));
      },
      /*on_io=*/true);

  router.Add(
      "GET", "/metrics",
      [&ctx](const Request&, const Params&, Reply reply) {
        Response r;
        r.body = ctx.metrics->Render(ctx.version);
        r.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        r.Set("Cache-Control", "no-store");
        reply(std::move(r));
      },
      /*on_io=*/true);
}

}  // namespace mediadex::server
