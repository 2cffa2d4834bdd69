// incremental_bench: how long does `mediadex index` take over a library it already knows?
//
//   build/bench/incremental_bench --files 10000 [--dir /tmp/mediadex-incr]
//
// Makes a library of N files (hard links to one photo, 100 per folder), records them in a fresh
// catalog as analysed by the bundled model with the default settings (what a first
// `mediadex index` would leave, without spending N forward passes), then times
// pipeline::RunIndex over it: scan (N stats), reconcile with the catalog, nothing to analyse.
// Prints one JSON line. `build/mediadex index --catalog DIR/catalog.db DIR/lib` then times the
// same re-run through the CLI, process start and model load included.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "catalog/catalog.h"
#include "engine/device.h"
#include "media/scan.h"
#include "model/detector.h"
#include "pipeline/indexer.h"
#include "core/files.h"

int main(int argc, char** argv) {
  using namespace mediadex;
  namespace fs = std::filesystem;
  CLI::App app{"mediadex incremental re-run benchmark"};
  int files = 10000;
  std::string dir = "/tmp/mediadex-incremental", model_path = "models/centernet.json";
  std::string photo = "samples/skimage-coffee.png";
  app.add_option("--files", files);
  app.add_option("--dir", dir);
  app.add_option("--model", model_path);
  app.add_option("--photo", photo);
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  const fs::path lib = fs::path(dir) / "lib";
  const std::string catalog_path = (fs::path(dir) / "catalog.db").string();
  RemoveTree(dir);
  for (int i = 0; i < files; ++i) {
    const fs::path folder = lib / ("f" + std::to_string(i / 100));
    if (i % 100 == 0) fs::create_directories(folder);
    fs::create_hard_link(photo, folder / ("p" + std::to_string(i) + ".png"));
  }

  auto cpu = engine::PickDevice({"cpu", false});
  auto detector = model::LoadDetector({model_path}, cpu->device);
  if (!detector.ok()) {
    std::fprintf(stderr, "incremental_bench: %s\n", detector.status().message().c_str());
    return 2;
  }
  auto catalog = catalog::OpenCatalog(catalog_path);
  if (!catalog.ok()) {
    std::fprintf(stderr, "incremental_bench: %s\n", catalog.status().message().c_str());
    return 2;
  }
  // What a first index run would have recorded: every file present and analysed.
  pipeline::IndexOptions options;
  options.roots = {lib.string()};
  options.scan.extensions = {"png"};
  options.settings = pipeline::ResultSettings(options.detect, "fast");
  const auto& info = (*detector)->info();
  auto model_id = (*catalog)->RegisterModel({info.name, info.version, options.settings});
  catalog::ScanChanges changes;
  for (const auto& f : media::ScanTree(options.roots, options.scan).files) {
    changes.added.push_back({f.path, f.size, f.mtime_ns, catalog::MediaKind::kImage});
  }
  if (!(*catalog)->ApplyScan(changes).ok() || !model_id.ok()) return 2;
  auto run_id = (*catalog)->BeginRun({*model_id, "cpu", "incremental_bench", options.roots});
  auto pending = (*catalog)->PendingFor(*model_id, 0);
  std::vector<catalog::MediaResult> batch;
  for (const auto& row : *pending) {
    catalog::MediaResult r;
    r.media_id = row.id;
    r.content_hash = "0";
    batch.push_back(r);
    if (batch.size() == 1000) {
      if (!(*catalog)->CommitBatch(*model_id, *run_id, batch).ok()) return 2;
      batch.clear();
    }
  }
  if (!(*catalog)->CommitBatch(*model_id, *run_id, batch).ok()) return 2;

  const auto start = std::chrono::steady_clock::now();
  auto summary = pipeline::RunIndex(**detector, **catalog, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!summary.ok()) {
    std::fprintf(stderr, "incremental_bench: %s\n", summary.status().message().c_str());
    return 1;
  }
  nlohmann::json out = {{"files", files},
                        {"unchanged", summary->unchanged},
                        {"analysed", summary->done + summary->failed},
                        {"rerun_seconds", seconds},
                        {"scan_reconcile_seconds", summary->scan_seconds},
                        {"seconds_per_10k_files", seconds * 10000.0 / files}};
  std::printf("%s\n", out.dump().c_str());
  return summary->unchanged == files && summary->done + summary->failed == 0 ? 0 : 1;
}
