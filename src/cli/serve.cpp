// mediadex serve: the web gallery and JSON API over the catalog (docs/api.md), with index runs
// started from the browser. This file only turns settings into server::ServerOptions and gives
// the server an IndexRunner built from index's own set-up (index_setup.h).
#include <spdlog/spdlog.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include "catalog/postgres/pg_connection.h"
#include "cli/catalog_open.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/index_setup.h"
#include "pipeline/indexer.h"
#include "server/server.h"

#ifndef MEDIADEX_VERSION
#define MEDIADEX_VERSION "0.0.0"
#endif
#ifndef MEDIADEX_SOURCE_WEB_DIR
#define MEDIADEX_SOURCE_WEB_DIR "web"
#endif

namespace mediadex::cli {
namespace {

// Thumbnails live beside an SQLite catalog (<catalog>.thumbs). A PostgreSQL catalog has no file:
// they go beside the default catalog, named after the redacted URL (one folder per database).
std::string ThumbCacheDir(const Config& config) {
  const std::string catalog = CatalogPathFromConfig(config);
  if (!catalog::postgres::IsPostgresUrl(config.Get("catalog"))) return catalog + ".thumbs";
  std::string name;
  for (char c : catalog) name += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
  return (std::filesystem::path(DefaultCatalogPath()).parent_path() / (name + ".thumbs")).string();
}

// Index runs for the server: the model is loaded at the first run and kept for the next ones;
// each run opens its own catalog connection and holds the catalog's run lock.
class CliIndexRunner : public server::IndexRunner {
 public:
  CliIndexRunner(Config config, IndexSettings settings, std::vector<std::string> roots)
      : config_(std::move(config)), settings_(std::move(settings)), roots_(std::move(roots)) {}

  Result<std::shared_ptr<void>> Lock() override {
    auto lock = LockCatalogForRun(config_);
    if (!lock.ok()) return lock.status();
    return std::shared_ptr<void>(std::make_shared<std::optional<catalog::RunLock>>(std::move(lock).value()));
  }

  Result<pipeline::IndexSummary> Run(pipeline::IndexObserver& observer, const CancelToken& cancel,
                                     const std::function<void(const std::string&)>& device) override {
    if (!setup_) {
      auto setup = SetUpIndex(settings_);
      if (!setup.ok()) return setup.status();
      setup_.emplace(std::move(setup).value());
    }
    device(setup_->detectors.device_names());
    auto catalog = OpenCatalogFromConfig(config_, /*create=*/true);
    if (!catalog.ok()) return catalog.status();
    pipeline::IndexOptions options = setup_->options;
    options.roots = roots_;
    options.observer = &observer;
    options.cancel = &cancel;
    return pipeline::RunIndex(setup_->detectors.workers(), **catalog, options);
  }

  int64_t CurrentRunId() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!reader_) {
      auto opened = OpenCatalogFromConfig(config_, /*create=*/false);
      if (!opened.ok()) return 0;
      reader_ = std::move(opened).value();
    }
    auto runs = reader_->RecentRuns(1);
    if (!runs.ok() || runs->empty() || runs->front().finished_at != 0) return 0;
    return runs->front().id;
  }

 private:
  Config config_;
  IndexSettings settings_;
  std::vector<std::string> roots_;
  std::optional<IndexSetup> setup_;
  std::mutex mu_;
  std::unique_ptr<catalog::Catalog> reader_;
};

std::vector<std::string> ServeKeys() {
  std::vector<std::string> keys = IndexKeys();
  for (const char* k : {"bind", "port", "token", "thumb_cache_max"}) keys.push_back(k);
  return keys;
}

struct ServeArgs {
  SettingsFlags settings;
  std::vector<std::string> libraries;
  bool dev = false;
};

std::vector<std::string> SplitColon(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(':', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int RunServe(const ServeArgs& args) {
  auto config = args.settings.Resolve();
  if (!config.ok()) return Fail(config.status());
  auto dev = config->GetBool("dev");
  if (!dev.ok()) return Fail(dev.status());
  const bool dev_mode = args.dev || *dev;
  if (dev_mode) spdlog::set_level(spdlog::level::debug);
  auto settings = ReadIndexSettings(*config);
  if (!settings.ok()) return Fail(settings.status());
  auto port = config->GetInt("port");
  if (!port.ok()) return Fail(port.status());
  auto thumb_max = config->GetBytes("thumb_cache_max");
  if (!thumb_max.ok()) return Fail(thumb_max.status());
  {
    // Creates and migrates the catalog once, so that readers find it, and fails early when it is unusable.
    auto catalog = OpenCatalogFromConfig(*config, /*create=*/true);
    if (!catalog.ok()) return Fail(catalog.status());
  }

  server::ServerOptions options;
  options.bind = config->Get("bind");
  options.port = static_cast<int>(*port);
  options.token = config->Get("token");
  options.libraries = !args.libraries.empty() ? args.libraries : SplitColon(config->Get("library"));
  if (dev_mode) options.dev_web_dir = MEDIADEX_SOURCE_WEB_DIR;
  options.thumb_cache_dir = ThumbCacheDir(*config);
  options.thumb_cache_max = *thumb_max;
  options.max_pixels = settings->max_pixels > 0 ? settings->max_pixels : options.max_pixels;
  options.version = MEDIADEX_VERSION;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  options.io_threads = static_cast<int>(std::min(2u, cores));
  options.thumb_threads = static_cast<int>(std::min(4u, cores));

  const Config resolved = *config;
  CliIndexRunner runner(resolved, *settings, options.libraries);
  server::Server server(
      options, [resolved] { return OpenCatalogFromConfig(resolved, /*create=*/false); }, &runner);
  Status started = server.Start();
  if (!started.ok()) return Fail(started);
  std::printf("listening on http://%s:%d\n",
              options.bind.find(':') != std::string::npos ? ("[" + options.bind + "]").c_str() : options.bind.c_str(),
              server.port());
  std::fflush(stdout);
  spdlog::info(
      "catalog {}; libraries: {}", CatalogPathFromConfig(resolved),
      options.libraries.empty() ? std::string("none (index runs need --library)") : [&] {
        std::string s;
        for (const auto& l : options.libraries) s += (s.empty() ? "" : ", ") + l;
        return s;
      }());
  server.Run();
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace

Command RegisterServe(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* sub = app.add_subcommand("serve", "serve the web gallery and JSON API over the catalog (docs/api.md)");
  args->settings.Add(*sub, ServeKeys());
  sub->add_option("--library", args->libraries, "library folder that index runs scan (repeat for more)");
  sub->add_flag("--dev", args->dev, "read web/ from the source tree on every request; debug logging");
  return [args] { return RunServe(*args); };
}

}  // namespace mediadex::cli
