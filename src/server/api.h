// The API's routes, registered by area (api_media.cpp, api_runs.cpp, api_system.cpp), and the
// helpers they share. Internal to server/.
#ifndef MEDIADEX_SERVER_API_H_
#define MEDIADEX_SERVER_API_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"
#include "server/catalog_pool.h"
#include "server/event_hub.h"
#include "server/metrics.h"
#include "server/router.h"
#include "server/run_manager.h"
#include "server/static_assets.h"
#include "server/thumbnails.h"

namespace mediadex::server {

struct ApiContext {
  CatalogPool* catalogs;
  Thumbnails* thumbs;
  RunManager* runs;
  EventHub* hub;
  Metrics* metrics;
  const StaticAssets* assets;
  std::vector<std::string> libraries;
  std::string version;
};

void RegisterMediaRoutes(Router& router, ApiContext& ctx);
void RegisterRunRoutes(Router& router, ApiContext& ctx);
void RegisterSystemRoutes(Router& router, ApiContext& ctx);

Response JsonResponse(int status, const nlohmann::json& body);
Response ErrorResponse(int status, const std::string& message);
// The HTTP status for a catalog/run error: InvalidArgument 400, NotFound 404, Busy 409, else 500.
Response StatusResponse(const Status& status);
// A catalog id: a positive decimal below 2^63 with no sign or spaces; 0 otherwise.
int64_t ParseId(const std::string& text);
// An integer query parameter in [lo, hi], `fallback` when absent; InvalidArgument otherwise.
Result<int64_t> IntParam(const Request& req, const std::string& key, int64_t lo, int64_t hi, int64_t fallback);

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_API_H_
