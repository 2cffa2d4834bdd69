// catalog_bench: how fast does a catalog take CommitBatch? SQLite against PostgreSQL, COPY
// against multi-row INSERT, synchronous_commit on and off, on the same generated data.
//
//   build/bench/catalog_bench --catalog /tmp/b.db --files 20000 --batch 64 --detections 8
//   build/bench/catalog_bench --catalog postgresql://127.0.0.1:5432/bench --insert values --synchronous-commit off
//
// Registers N files (one ApplyScan), then commits their results in batches of B, each file with
// D detections (labels from a fixed list of 80, scores and boxes from a fixed seed), and prints
// one JSON line: batches/s, detections inserted/s, files/s. bench/catalog_bench.sh runs the matrix
// against a server started with fsync on.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <random>

#include "catalog/catalog.h"
#include "catalog/postgres/pg_connection.h"
#include "catalog/postgres/postgres_catalog.h"

int main(int argc, char** argv) {
  using namespace mediadex;
  using namespace mediadex::catalog;
  CLI::App app{"mediadex CommitBatch benchmark"};
  std::string where, insert = "copy", sync = "on";
  int files = 20000, batch = 64, dets = 8;
  app.add_option("--catalog", where, "SQLite file (removed first) or postgresql:// URL of an empty database")
      ->required();
  app.add_option("--files", files);
  app.add_option("--batch", batch);
  app.add_option("--detections", dets, "per file");
  app.add_option("--insert", insert, "PostgreSQL: copy | values (multi-row INSERT)");
  app.add_option("--synchronous-commit", sync, "PostgreSQL: on | off");
  CLI11_PARSE(app, argc, argv);

  const bool pg = postgres::IsPostgresUrl(where);
  if (!pg) std::remove(where.c_str());
  std::unique_ptr<Catalog> catalog;
  if (pg) {
    auto opened = postgres::PostgresCatalog::Open(where);
    if (!opened.ok()) return std::fprintf(stderr, "%s\n", opened.status().ToString().c_str()), 1;
    (*opened)->set_detection_insert(insert == "values" ? postgres::DetectionInsert::kMultiRowInsert
                                                       : postgres::DetectionInsert::kCopy);
    Status s = (*opened)->connection().Exec("SET synchronous_commit = " + sync);
    if (!s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
    catalog = std::move(opened).value();
  } else {
    auto opened = OpenCatalog(where);
    if (!opened.ok()) return std::fprintf(stderr, "%s\n", opened.status().ToString().c_str()), 1;
    catalog = std::move(opened).value();
  }
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  };

  ScanChanges scan;
  for (int i = 0; i < files; ++i) {
    char path[64];
    std::snprintf(path, sizeof(path), "/photos/%03d/IMG_%06d.jpg", i / 1000, i);
    scan.added.push_back({path, 1000000u + static_cast<uint64_t>(i), 1700000000000000000 + i, MediaKind::kImage});
  }
  const auto t_scan = std::chrono::steady_clock::now();
  if (Status s = catalog->ApplyScan(scan); !s.ok()) return fail(s);
  const double scan_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_scan).count();
  auto model = catalog->RegisterModel({"centernet", "bench", "iou=0.4"});
  if (!model.ok()) return fail(model.status());
  auto run = catalog->BeginRun({*model, "cpu", "bench", {"/photos"}});
  if (!run.ok()) return fail(run.status());
  auto pending = catalog->PendingFor(*model, 0);
  if (!pending.ok()) return fail(pending.status());

  std::mt19937 rng(42);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::vector<std::vector<MediaResult>> batches;
  for (size_t i = 0; i < pending->size(); i += static_cast<size_t>(batch)) {
    std::vector<MediaResult> b;
    for (size_t j = i; j < std::min(pending->size(), i + static_cast<size_t>(batch)); ++j) {
      MediaResult r;
      r.media_id = (*pending)[j].id;
      r.content_hash = "hash" + std::to_string(j);
      r.width = 4032;
      r.height = 3024;
      for (int d = 0; d < dets; ++d) {
        StoredDetection sd;
        sd.detection.class_id = static_cast<int>(rng() % 80);
        sd.detection.label = "label" + std::to_string(sd.detection.class_id);
        sd.detection.score = 0.2f + 0.8f * unit(rng);
        const float x = 4000 * unit(rng), y = 3000 * unit(rng);
        sd.detection.box = {x, y, x + 30, y + 40};
        r.detections.push_back(sd);
      }
      b.push_back(std::move(r));
    }
    batches.push_back(std::move(b));
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& b : batches) {
    if (Status s = catalog->CommitBatch(*model, *run, b); !s.ok()) return fail(s);
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json j = {{"backend", pg ? "postgresql" : "sqlite"},
                      {"insert", pg ? insert : "prepared"},
                      {"synchronous_commit", pg ? sync : "NORMAL (WAL)"},
                      {"files", files},
                      {"batch", batch},
                      {"detections_per_file", dets},
                      {"apply_scan_s", scan_s},
                      {"commit_s", s},
                      {"batches_per_s", batches.size() / s},
                      {"files_per_s", pending->size() / s},
                      {"detections_per_s", pending->size() * dets / s}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}
