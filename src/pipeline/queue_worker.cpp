#include "pipeline/queue_worker.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/memory.h"
#include "pipeline/index_run.h"
#include "pipeline/memory_plan.h"

namespace mediadex::pipeline {
namespace {

using Clock = std::chrono::steady_clock;

// The catalog the batch's writer stage sees: it keeps the results for the lease's Finish, which
// writes them (and checks the token) in one transaction. Nothing else is asked of it.
class ResultCollector final : public catalog::Catalog {
 public:
  std::vector<catalog::MediaResult> results;

  Status CommitBatch(int64_t, int64_t, const std::vector<catalog::MediaResult>& batch) override {
    results.insert(results.end(), batch.begin(), batch.end());
    return Status::Ok();
  }
  Result<int64_t> RegisterModel(const catalog::ModelKey&) override { return No(); }
  Result<int64_t> BeginRun(const catalog::RunInfo&) override { return No(); }
  Status FinishRun(int64_t, const catalog::RunCounts&) override { return No(); }
  Result<std::vector<catalog::MediaRow>> LoadFileIndex() override { return No(); }
  Result<std::vector<catalog::MediaRow>> FindGoneByHash(const std::string&) override { return No(); }
  Status ApplyScan(const catalog::ScanChanges&) override { return No(); }
  Result<std::vector<catalog::MediaRow>> PendingFor(int64_t, int64_t) override { return No(); }
  Result<std::vector<catalog::SearchHit>> Search(const catalog::SearchQuery&) override { return No(); }
  Result<catalog::StatusSummary> Summary(int64_t) override { return No(); }
  Result<std::vector<catalog::RunRow>> RecentRuns(int) override { return No(); }
  Result<std::vector<catalog::ErrorRow>> Errors(int64_t, int) override { return No(); }
  Result<std::vector<catalog::ExportRow>> ExportAll(int64_t) override { return No(); }

 private:
  static Status No() { return Unsupported("a worker's batch only commits through its lease"); }
};

// The heartbeat thread: extends the current lease every lease/3 s on its own connection, and
// cancels the batch when the lease is gone.
class Heartbeat {
 public:
  Heartbeat(std::unique_ptr<catalog::WorkQueue> queue, double lease_seconds)
      : queue_(std::move(queue)), lease_seconds_(lease_seconds), thread_([this] { Run(); }) {}
  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // The batch now held (token 0: none) and the token to cancel if its lease is found gone.
  void Hold(int64_t token, CancelToken* cancel) {
    std::lock_guard<std::mutex> lock(mu_);
    token_ = token;
    cancel_ = cancel;
    lost_ = false;
    finishing_ = false;
  }
  // The batch's Finish is under way: its rows are locked and then released by it, so a
  // heartbeat that finds none held now says nothing about a lost lease.
  void Finishing() {
    std::lock_guard<std::mutex> lock(mu_);
    finishing_ = true;
  }
  bool lost() {
    std::lock_guard<std::mutex> lock(mu_);
    return lost_;
  }

 private:
  void Run() {
    const auto interval = std::chrono::duration<double>(std::max(0.2, lease_seconds_ / 3));
    bool failing = false;
    std::unique_lock<std::mutex> lock(mu_);
    while (!quit_) {
      cv_.wait_for(lock, interval, [this] { return quit_; });
      if (quit_) break;
      const int64_t token = token_;
      lock.unlock();
      auto held = queue_->Heartbeat(token, lease_seconds_);
      lock.lock();
      if (!held.ok()) {
        if (!failing) spdlog::warn("heartbeat: {} (retrying; the lease may expire meanwhile)", held.status().message());
        failing = true;
        continue;
      }
      if (failing) spdlog::info("heartbeat: the catalog answers again");
      failing = false;
      if (!*held && token != 0 && token == token_ && !lost_ && !finishing_) {
        lost_ = true;
        spdlog::warn(
            "lease {} is gone (it expired and another worker took its files): dropping the batch, "
            "nothing of it will be committed",
            token);
        if (cancel_ != nullptr) cancel_->Cancel();
      }
    }
  }

  std::unique_ptr<catalog::WorkQueue> queue_;
  const double lease_seconds_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool quit_ = false;
  int64_t token_ = 0;
  CancelToken* cancel_ = nullptr;
  bool lost_ = false;
  bool finishing_ = false;
  std::thread thread_;  // last: starts once the rest is built
};

bool Stopped(const CancelToken* stop) { return stop != nullptr && stop->cancelled(); }

// Sleeps up to `seconds`, waking early when stopped.
void Nap(double seconds, const CancelToken* stop) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end && !Stopped(stop)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

std::string DeviceNames(const std::vector<const model::Detector*>& detectors) {
  std::string names;
  for (const auto* d : detectors) {
    if (names.find(d->device().name) == std::string::npos) names += (names.empty() ? "" : ",") + d->device().name;
  }
  return names;
}

}  // namespace

Result<PathMap> ParsePathMap(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return InvalidArgument("--path-map '" + text + "': expected FROM=TO, e.g. /mnt/photos=/Volumes/photos");
  }
  PathMap map{text.substr(0, eq), text.substr(eq + 1)};
  while (map.from.size() > 1 && map.from.back() == '/') map.from.pop_back();
  while (map.to.size() > 1 && map.to.back() == '/') map.to.pop_back();
  return map;
}

std::string MapPath(const std::string& path, const std::vector<PathMap>& maps) {
  for (const PathMap& m : maps) {
    if (path == m.from) return m.to;
    if (m.from == "/") {  // the root: every absolute path, under TO
      if (path.empty() || path[0] != '/') continue;
      return m.to == "/" ? path : m.to + path;
    }
    if (m.to == "/" && path.size() > m.from.size() && path.compare(0, m.from.size(), m.from) == 0 &&
        path[m.from.size()] == '/') {
      return path.substr(m.from.size());
    }
    if (path.size() > m.from.size() && path.compare(0, m.from.size(), m.from) == 0 &&
        (m.from.back() == '/' || path[m.from.size()] == '/')) {
      return m.to + path.substr(m.from.size());
    }
  }
  return path;
}

Result<WorkerSummary> RunWorker(const std::vector<const model::Detector*>& detectors, catalog::Catalog& catalog,
                                catalog::WorkQueue& queue, const QueueOpener& open_heartbeat_queue,
                                const WorkerOptions& options) {
  if (detectors.empty()) return InvalidArgument("RunWorker: no detector");
  WorkerSummary summary;
  const model::ModelInfo& info = detectors.front()->info();
  auto model_id = catalog.RegisterModel({info.name, info.version, options.index.settings});
  if (!model_id.ok()) return model_id.status();
  auto plan = PlanMemory(detectors, options.index.batch_size, options.index.max_memory, CurrentRssBytes());
  if (!plan.ok()) return plan.status();
  auto worker_id = queue.RegisterWorker(options.worker);
  if (!worker_id.ok()) return worker_id.status();
  summary.worker_id = *worker_id;
  auto heartbeat_queue = open_heartbeat_queue();
  if (!heartbeat_queue.ok()) return heartbeat_queue.status().WithContext("the heartbeat's connection");
  (*heartbeat_queue)->AttachWorker(*worker_id);
  catalog::RunInfo run;
  run.model_id = *model_id;
  run.device = DeviceNames(detectors);
  run.settings = "worker=" + std::to_string(*worker_id) + ";batch=" + std::to_string(options.batch) +
                 ";lease_seconds=" + std::to_string(options.lease_seconds) + ";" + options.index.settings;
  auto run_id = catalog.BeginRun(run);
  if (!run_id.ok()) return run_id.status();
  spdlog::info("worker {} ({} pid {}): model {} ({}), {} files a lease of {} s, at most {} attempts", *worker_id,
               options.worker.host, options.worker.pid, info.name, options.index.settings, options.batch,
               options.lease_seconds, options.max_attempts);

  Heartbeat heartbeat(std::move(heartbeat_queue).value(), options.lease_seconds);
  const catalog::ClaimOptions claim{options.lease_seconds, options.max_attempts};
  bool said_waiting = false;
  while (!Stopped(options.stop)) {
    auto lease = queue.Claim(*model_id, options.batch, claim);
    if (!lease.ok()) {
      spdlog::warn("{} (retrying)", lease.status().message());
      Nap(options.poll_seconds, options.stop);
      continue;
    }
    if (lease->token == 0) {
      if (options.until_empty) {
        auto remaining = queue.Remaining(*model_id);
        if (remaining.ok() && *remaining == 0) break;  // leased by others only: wait for them or their expiry
      }
      if (!said_waiting) spdlog::info("nothing to claim now; waiting for work");
      said_waiting = true;
      Nap(options.poll_seconds, options.stop);
      continue;
    }
    said_waiting = false;
    const auto start = Clock::now();
    std::vector<catalog::MediaRow> rows;
    for (const catalog::QueueItem& item : lease->items) {
      rows.push_back(item.media);
      rows.back().path = MapPath(item.media.path, options.path_maps);
    }
    CancelToken batch_cancel;
    heartbeat.Hold(lease->token, &batch_cancel);
    IndexOptions batch_options = options.index;
    batch_options.cancel = &batch_cancel;
    batch_options.observer = nullptr;
    ResultCollector collector;
    IndexSummary analysed;
    auto gpu_plans = PlanGpuDecoders(detectors, batch_options.jpeg_decode, batch_options.nvjpeg_workers);
    if (!gpu_plans.ok()) return gpu_plans.status();
    const size_t files = rows.size();
    Status status = AnalysePending(detectors, std::move(gpu_plans).value(), collector, batch_options, *model_id,
                                   *run_id, std::move(rows), *plan, &analysed);
    if (!status.ok()) {
      heartbeat.Hold(0, nullptr);
      (void)queue.Release(lease->token);
      return status.WithContext("lease " + std::to_string(lease->token));
    }
    ++summary.batches;
    if (heartbeat.lost()) {
      heartbeat.Hold(0, nullptr);
      summary.dropped += static_cast<int64_t>(files);
      continue;
    }
    // The finish: retried with the same token while the server cannot be reached; the token
    // decides, once it answers, whether these results still belong to this worker.
    // After the deadline the results are given up: the lease expires and another worker redoes them.
    heartbeat.Finishing();
    const auto deadline = Clock::now() + std::chrono::duration<double>(std::max(120.0, 4 * options.lease_seconds));
    Result<catalog::FinishOutcome> outcome = IOError("not tried");
    for (bool said = false;;) {
      outcome = queue.Finish(lease->token, *model_id, *run_id, collector.results, options.max_attempts);
      if (outcome.ok() || outcome.status().code() != StatusCode::kIOError || Clock::now() > deadline) break;
      if (!said) spdlog::warn("{}; retrying until the catalog answers", outcome.status().message());
      said = true;
      Nap(1.0, nullptr);
    }
    heartbeat.Hold(0, nullptr);
    if (!outcome.ok()) {
      if (outcome.status().code() != StatusCode::kIOError) return outcome.status();
      spdlog::error("{}: gave up; lease {}'s files will be redone by the next worker to claim them",
                    outcome.status().message(), lease->token);
      summary.dropped += static_cast<int64_t>(files);
      continue;
    }
    summary.done += outcome->done;
    summary.failed += outcome->failed;
    summary.retried += outcome->retried;
    summary.refused += outcome->refused;
    if (outcome->refused > 0) {
      spdlog::warn(
          "lease {}: {} of {} results refused: the lease expired and another worker took those files; "
          "nothing of theirs was committed",
          lease->token, outcome->refused, collector.results.size());
    }
    spdlog::info("lease {}: {} files in {:.2f} s: {} done, {} failed, {} to retry, {} refused", lease->token, files,
                 std::chrono::duration<double>(Clock::now() - start).count(), outcome->done, outcome->failed,
                 outcome->retried, outcome->refused);
  }
  (void)catalog.FinishRun(*run_id, {summary.done, summary.failed, 0});
  (void)queue.StopWorker();
  return summary;
}

}  // namespace mediadex::pipeline
