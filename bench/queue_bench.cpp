// queue_bench: how many claims and detections a second can one PostgreSQL catalog's work queue
// take, with a detector stand-in fast enough that the catalog is what is measured?
//
//   build/bench/queue_bench --catalog postgresql://127.0.0.1:5432/bench --files 20000 --workers 4
//       (--batch 64 --detections 10 --synchronous-commit on --insert copy: the defaults)
//
// Registers N synthetic files (one ApplyScan), enqueues them (PgWorkQueue::Enqueue, as
// `index --enqueue` does), then K threads, each its own worker with its own connection, loop:
// Claim(B) -> D synthetic detections per file (no decode, no inference) -> Finish(token), the
// token-checked transaction that writes the results, until the queue is empty. Prints one JSON
// line: claims/s, photos/s, detections inserted/s, claim and finish latency (p50/p99), the
// client's CPU seconds, and a check that every file was committed exactly once. A real worker
// also runs a heartbeat (one UPDATE every lease/3 s on a second connection): negligible here.
// bench/queue_bench.sh runs a matrix against a throw-away server.
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <random>
#include <thread>

#include "catalog/catalog.h"
#include "catalog/postgres/pg_connection.h"
#include "catalog/postgres/pg_work_queue.h"
#include "catalog/postgres/postgres_catalog.h"

namespace {

using namespace mediadex;
using namespace mediadex::catalog;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct ThreadResult {
  Status status;
  int64_t claims = 0, photos = 0, empty_claims = 0;
  std::vector<double> claim_ms, finish_ms;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mediadex work-queue benchmark (PostgreSQL)"};
  std::string url, insert = "copy", sync = "on";
  int files = 20000, workers = 4, batch = 64, dets = 10;
  app.add_option("--catalog", url, "postgresql:// URL of an empty database")->required();
  app.add_option("--files", files, "synthetic files to register and enqueue")->capture_default_str();
  app.add_option("--workers", workers, "concurrent worker threads, each its own connection")->capture_default_str();
  app.add_option("--batch", batch, "files per claim (worker --batch)")->capture_default_str();
  app.add_option("--detections", dets, "per file (CenterNet's maximum after the score cut is 10)")
      ->capture_default_str();
  app.add_option("--insert", insert, "detections by: copy | values (multi-row INSERT)")->capture_default_str();
  app.add_option("--synchronous-commit", sync, "on | off, SET in every worker's session")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "queue_bench: %s\n", s.ToString().c_str());
    return 1;
  };
  if (!postgres::IsPostgresUrl(url)) return fail(InvalidArgument("--catalog must be a postgresql:// URL"));

  auto catalog = postgres::PostgresCatalog::Open(url);
  if (!catalog.ok()) return fail(catalog.status());
  ScanChanges scan;
  for (int i = 0; i < files; ++i) {
    char path[64];
    std::snprintf(path, sizeof(path), "/mnt/photos/%03d/IMG_%06d.jpg", i / 1000, i);
    scan.added.push_back({path, 1000000u + static_cast<uint64_t>(i), 1700000000000000000 + i, MediaKind::kImage});
  }
  if (Status s = (*catalog)->ApplyScan(scan); !s.ok()) return fail(s);
  auto model = (*catalog)->RegisterModel({"centernet", "bench", "iou=0.4"});
  if (!model.ok()) return fail(model.status());
  auto run = (*catalog)->BeginRun({*model, "synthetic", "queue_bench", {"/mnt/photos"}});
  if (!run.ok()) return fail(run.status());
  auto pending = (*catalog)->PendingFor(*model, 0);
  if (!pending.ok()) return fail(pending.status());
  std::vector<int64_t> ids;
  for (const MediaRow& row : *pending) ids.push_back(row.id);

  auto enqueuer = postgres::PgWorkQueue::Open(url, "queue_bench enqueue");
  if (!enqueuer.ok()) return fail(enqueuer.status());
  const auto t_enqueue = Clock::now();
  auto queued = (*enqueuer)->Enqueue(*model, ids);
  if (!queued.ok()) return fail(queued.status());
  const double enqueue_s = Seconds(t_enqueue, Clock::now());

  // Every worker connects and registers before the clock starts.
  std::vector<std::unique_ptr<postgres::PgWorkQueue>> queues;
  for (int w = 0; w < workers; ++w) {
    auto q = postgres::PgWorkQueue::Open(url, "queue_bench worker " + std::to_string(w));
    if (!q.ok()) return fail(q.status());
    (*q)->set_detection_insert(insert == "values" ? postgres::DetectionInsert::kMultiRowInsert
                                                  : postgres::DetectionInsert::kCopy);
    if (Status s = (*q)->connection().Exec("SET synchronous_commit = " + sync); !s.ok()) return fail(s);
    auto id = (*q)->RegisterWorker({"bench", static_cast<int64_t>(::getpid()), "synthetic"});
    if (!id.ok()) return fail(id.status());
    queues.push_back(std::move(q).value());
  }

  std::vector<ThreadResult> results(static_cast<size_t>(workers));
  std::mutex mu;
  std::condition_variable go_cv;
  bool go = false;
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      ThreadResult& out = results[static_cast<size_t>(w)];
      postgres::PgWorkQueue& q = *queues[static_cast<size_t>(w)];
      std::mt19937 rng(static_cast<unsigned>(42 + w));
      std::uniform_real_distribution<float> unit(0.f, 1.f);
      {
        std::unique_lock<std::mutex> lock(mu);
        go_cv.wait(lock, [&] { return go; });
      }
      for (;;) {
        const auto t0 = Clock::now();
        auto lease = q.Claim(*model, batch, {60, 3});
        const auto t1 = Clock::now();
        if (!lease.ok()) {
          out.status = lease.status();
          return;
        }
        if (lease->token == 0) {  // every file was enqueued before the start: nothing left for us
          ++out.empty_claims;
          return;
        }
        out.claim_ms.push_back(1e3 * Seconds(t0, t1));
        std::vector<MediaResult> batch_results;
        for (const QueueItem& item : lease->items) {
          MediaResult r;
          r.media_id = item.media.id;
          r.content_hash = "synthetic" + std::to_string(item.media.id);
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
          batch_results.push_back(std::move(r));
        }
        const auto t2 = Clock::now();
        auto outcome = q.Finish(lease->token, *model, *run, batch_results, 3);
        const auto t3 = Clock::now();
        if (!outcome.ok()) {
          out.status = outcome.status();
          return;
        }
        if (outcome->done != static_cast<int64_t>(batch_results.size())) {
          out.status = Corrupt("lease " + std::to_string(lease->token) + ": " + std::to_string(outcome->done) +
                               " of " + std::to_string(batch_results.size()) + " done");
          return;
        }
        out.finish_ms.push_back(1e3 * Seconds(t2, t3));
        ++out.claims;
        out.photos += outcome->done;
      }
    });
  }
  const double cpu0 = CpuSeconds();
  const auto t_start = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu);
    go = true;
  }
  go_cv.notify_all();
  for (auto& t : threads) t.join();
  const double wall = Seconds(t_start, Clock::now());
  const double cpu = CpuSeconds() - cpu0;

  ThreadResult all;
  for (const ThreadResult& r : results) {
    if (!r.status.ok()) return fail(r.status);
    all.claims += r.claims;
    all.photos += r.photos;
    all.claim_ms.insert(all.claim_ms.end(), r.claim_ms.begin(), r.claim_ms.end());
    all.finish_ms.insert(all.finish_ms.end(), r.finish_ms.begin(), r.finish_ms.end());
  }
  // Exactly once: every file done in the queue, one analysis and D detections each.
  auto& conn = (*catalog)->connection();
  auto done = conn.QueryInt("SELECT COUNT(*) FROM queue WHERE state = 'done'");
  auto stored = conn.QueryInt("SELECT COUNT(*) FROM detections");
  if (!done.ok()) return fail(done.status());
  if (!stored.ok()) return fail(stored.status());
  const bool exact = *done == files && all.photos == files && *stored == static_cast<int64_t>(files) * dets;

  nlohmann::json j = {{"files", files},
                      {"workers", workers},
                      {"batch", batch},
                      {"detections_per_file", dets},
                      {"insert", insert},
                      {"synchronous_commit", sync},
                      {"enqueue_s", enqueue_s},
                      {"wall_s", wall},
                      {"claims_per_s", all.claims / wall},
                      {"photos_per_s", all.photos / wall},
                      {"detections_per_s", all.photos * dets / wall},
                      {"claim_ms_p50", Percentile(all.claim_ms, 0.5)},
                      {"claim_ms_p99", Percentile(all.claim_ms, 0.99)},
                      {"finish_ms_p50", Percentile(all.finish_ms, 0.5)},
                      {"finish_ms_p99", Percentile(all.finish_ms, 0.99)},
                      {"client_cpu_s", cpu},
                      {"exactly_once", exact}};
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
  return exact ? 0 : 1;
}
