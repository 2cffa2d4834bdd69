// /api/media, /api/media/{id}, /api/media/{id}/original, /api/thumbs/{id}/{size}/{hash}.
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

#include "server/api.h"
#include "server/json_text.h"
#include "server/query_parser.h"

namespace mediadex::server {
namespace {

using nlohmann::json;

std::string HashPart(const catalog::MediaItem& item) { return item.content_hash.empty() ? "0" : item.content_hash; }

std::string ThumbUrl(const catalog::MediaItem& item, const char* size) {
  return "/api/thumbs/" + std::to_string(item.id) + "/" + size + "/" + HashPart(item);
}

double Round(double v, double scale) { return std::round(v * scale) / scale; }

json ItemJson(const catalog::MediaItem& item) {
  json labels = json::array();
  for (const auto& l : item.labels) labels.push_back(Text(l));
  return {{"id", item.id},
          {"name", Text(BaseName(item.path))},
          {"path", Text(item.path)},
          {"kind", item.kind == catalog::MediaKind::kVideo ? "video" : "image"},
          {"width", item.width},
          {"height", item.height},
          {"capture_time", item.capture_time != 0 ? json(IsoTime(item.capture_time)) : json()},
          {"status", catalog::AnalysisStatusName(item.status)},
          {"best_score", Round(item.best_score, 1e4)},
          {"labels", labels},
          {"thumb", ThumbUrl(item, "grid")}};
}

json DetailJson(const catalog::MediaDetail& d) {
  const catalog::MediaItem& item = d.item;
  json j = ItemJson(item);
  j["orientation"] = item.orientation;
  j["duration_s"] = item.kind == catalog::MediaKind::kVideo ? json(item.duration_s) : json();
  j["error"] = item.error.empty() ? json() : json(Text(item.error));
  j["content_hash"] = item.content_hash.empty() ? json() : json(item.content_hash);
  json dets = json::array();
  const double w = item.width > 0 ? item.width : 1, h = item.height > 0 ? item.height : 1;
  for (const auto& sd : d.detections) {
    const Box& b = sd.detection.box;
    dets.push_back(
        {{"label", Text(sd.detection.label)},
         {"class", sd.detection.class_id},
         {"score", Round(sd.detection.score, 1e4)},
         {"box", {Round(b.x1, 10), Round(b.y1, 10), Round(b.x2, 10), Round(b.y2, 10)}},
         {"box_norm", {Round(b.x1 / w, 1e5), Round(b.y1 / h, 1e5), Round(b.x2 / w, 1e5), Round(b.y2 / h, 1e5)}},
         {"time", sd.time_s >= 0 ? json(Round(sd.time_s, 1e3)) : json()}});
  }
  j["detections"] = dets;
  j["thumbs"] = {{"grid", ThumbUrl(item, "grid")}, {"preview", ThumbUrl(item, "preview")}};
  j["original"] = "/api/media/" + std::to_string(item.id) + "/original";
  return j;
}

std::vector<std::string> SplitComma(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string part = text.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.erase(0, 1);
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) out.push_back(part);
    start = end + 1;
  }
  return out;
}

// The query parameters of GET /api/media as a catalog filter.
Result<catalog::MediaFilter> FilterFrom(const Request& req) {
  catalog::MediaFilter f;
  const std::string match = req.Query("match");
  if (!match.empty() && match != "all" && match != "any") return InvalidArgument("match must be all or any");
  const auto labels = SplitComma(req.Query("labels"));
  if (!labels.empty()) {
    if (match == "any")
      f.label_groups.push_back(labels);
    else
      for (const auto& l : labels) f.label_groups.push_back({l});
  }
  if (!req.Query("min_score").empty()) {
    auto s = ParseScore(req.Query("min_score"), "min_score");
    if (!s.ok()) return s.status();
    f.min_score = *s;
  }
  f.folder = req.Query("folder");
  if (!req.Query("after").empty()) {
    auto d = ParseDate(req.Query("after"), "after");
    if (!d.ok()) return d.status();
    f.after = *d;
  }
  if (!req.Query("before").empty()) {
    auto d = ParseDate(req.Query("before"), "before");
    if (!d.ok()) return d.status();
    f.before = *d + 86400;
  }
  f.status = req.Query("status");
  if (!f.status.empty() && f.status != "done" && f.status != "failed" && f.status != "pending") {
    return InvalidArgument("status must be done, failed or pending");
  }
  auto model = IntParam(req, "model", 1, INT64_MAX, 0);
  if (!model.ok()) return model.status();
  f.model_id = *model;
  const std::string sort = req.Query("sort");
  if (!sort.empty() && sort != "date" && sort != "score") return InvalidArgument("sort must be date or score");
  f.sort = sort == "score" ? catalog::MediaSort::kScore : catalog::MediaSort::kDate;
  auto limit = IntParam(req, "limit", 1, 500, 100);
  if (!limit.ok()) return limit.status();
  f.limit = static_cast<int>(*limit);
  f.cursor = req.Query("cursor");
  MDX_RETURN_IF_ERROR(ParseSearchQuery(req.Query("q"), &f));
  return f;
}

// Header values must not carry CR/LF (response splitting) and stay short.
std::string HeaderSafe(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (out.size() >= 200) break;
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  return out;
}

constexpr uint64_t kMaxRangeBytes = 16ull << 20;  // one 206 answer at most; clients ask again

// Fills `r` for the bytes of `path` honouring a single "bytes=" range.
Response FileResponse(const Request& req, const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return ErrorResponse(404, "the file is no longer on disk");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  Response r;
  r.file_path = path;
  r.Set("Content-Type", MimeType(path));
  r.Set("Accept-Ranges", "bytes");
  r.Set("Cache-Control", "private, max-age=0, must-revalidate");
  r.Set("Content-Disposition", "inline");
  const std::string range = req.Header("range");
  if (range.rfind("bytes=", 0) != 0 || range.find(',') != std::string::npos) {
    r.file_whole = true;
    r.file_length = size;
    return r;
  }
  const std::string spec = range.substr(6);
  const size_t dash = spec.find('-');
  uint64_t first = 0, last = size ? size - 1 : 0;
  bool ok = dash != std::string::npos && size > 0;
  auto number = [](const std::string& s, uint64_t* v) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 18) return false;
    *v = std::strtoull(s.c_str(), nullptr, 10);
    return true;
  };
  if (ok) {
    const std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
    uint64_t v = 0;
    if (a.empty()) {  // the last N bytes
      ok = number(b, &v) && v > 0;
      if (ok) first = v >= size ? 0 : size - v;
    } else {
      ok = number(a, &first) && first < size;
      if (ok && !b.empty()) ok = number(b, &v) && v >= first, last = std::min(v, size - 1);
    }
  }
  if (!ok) {
    Response bad = ErrorResponse(416, "range not satisfiable");
    bad.Set("Content-Range", "bytes */" + std::to_string(size));
    return bad;
  }
  last = std::min(last, first + kMaxRangeBytes - 1);
  r.status = 206;
  r.file_offset = first;
  r.file_length = last - first + 1;
  r.Set("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size));
  return r;
}

}  // namespace

void RegisterMediaRoutes(Router& router, ApiContext& ctx) {
  router.Add("GET", "/api/media", [&ctx](const Request& req, const Params&, Reply reply) {
    auto filter = FilterFrom(req);
    if (!filter.ok()) return reply(ErrorResponse(400, filter.status().message()));
    auto catalog = ctx.catalogs->Acquire();
    if (!catalog.ok()) return reply(StatusResponse(catalog.status()));
    auto page = (*catalog)->ListMedia(*filter);
    if (!page.ok()) return reply(StatusResponse(page.status()));
    json items = json::array();
    for (const auto& item : page->items) items.push_back(ItemJson(item));
    reply(JsonResponse(
        200, {{"items", items}, {"next_cursor", page->next_cursor.empty() ? json() : json(page->next_cursor)}}));
  });

  router.Add("GET", "/api/media/{id}", [&ctx](const Request& req, const Params& p, Reply reply) {
    const int64_t id = ParseId(p[0]);
    if (id == 0) return reply(ErrorResponse(404, "no media with id '" + HeaderSafe(p[0]) + "'"));
    auto model = IntParam(req, "model", 1, INT64_MAX, 0);
    if (!model.ok()) return reply(ErrorResponse(400, model.status().message()));
    auto catalog = ctx.catalogs->Acquire();
    if (!catalog.ok()) return reply(StatusResponse(catalog.status()));
    auto detail = (*catalog)->GetMedia(id, *model);
    if (!detail.ok()) return reply(StatusResponse(detail.status()));
    reply(JsonResponse(200, DetailJson(*detail)));
  });

  router.Add("GET", "/api/media/{id}/original", [&ctx](const Request& req, const Params& p, Reply reply) {
    const int64_t id = ParseId(p[0]);
    if (id == 0) return reply(ErrorResponse(404, "no media with that id"));
    auto catalog = ctx.catalogs->Acquire();
    if (!catalog.ok()) return reply(StatusResponse(catalog.status()));
    auto detail = (*catalog)->GetMedia(id, 0);
    if (!detail.ok()) return reply(StatusResponse(detail.status()));
    reply(FileResponse(req, detail->item.path));
  });

  router.Add("GET", "/api/thumbs/{id}/{size}/{hash}", [&ctx](const Request& req, const Params& p, Reply reply) {
    const int64_t id = ParseId(p[0]);
    const ThumbSize* size = FindThumbSize(p[1]);
    if (id == 0 || size == nullptr) return reply(ErrorResponse(404, "no such thumbnail (sizes: grid, preview)"));
    const std::string etag = "\"" + p[2] + "\"";
    auto immutable = [etag](Response& r) {
      r.Set("Cache-Control", "public, max-age=31536000, immutable");
      r.Set("ETag", etag);
    };
    if (req.Header("if-none-match") == etag && p[2] != "0") {
      Response r;
      r.status = 304;
      immutable(r);
      return reply(std::move(r));
    }
    catalog::MediaItem item;
    {
      auto catalog = ctx.catalogs->Acquire();
      if (!catalog.ok()) return reply(StatusResponse(catalog.status()));
      auto detail = (*catalog)->GetMedia(id, 0);
      if (!detail.ok()) return reply(StatusResponse(detail.status()));
      item = detail->item;
    }
    if (HashPart(item) != p[2]) return reply(ErrorResponse(404, "stale thumbnail URL: the file's content changed"));
    const std::string placeholder = ctx.thumbs->placeholder();
    auto done = [reply, immutable, placeholder](ThumbResult result) mutable {
      Response r;
      if (result.error == kThumbBusy) {
        r = ErrorResponse(503, "too many thumbnails being made; retry");
        r.Set("Retry-After", "1");
        return reply(std::move(r));
      }
      r.Set("Content-Type", "image/webp");
      if (!result.file.empty()) {
        r.file_path = result.file;
        r.file_whole = true;
        immutable(r);
      } else {
        r.body = placeholder;
        r.Set("Cache-Control", "no-store");
        r.Set("X-Mediadex-Error", HeaderSafe(result.error.empty() ? "cannot make a thumbnail" : result.error));
      }
      reply(std::move(r));
    };
    ctx.thumbs->Get(item, *size, done);
  });
}

}  // namespace mediadex::server
