#include "server/run_manager.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "server/json_text.h"

namespace mediadex::server {

using nlohmann::json;

// Told of the run's scan, batches, failures and end; turns them into events and metrics.
class RunManager::Observer : public pipeline::IndexObserver {
 public:
  explicit Observer(RunManager* m) : m_(m) {}

  void OnScanned(const pipeline::ScanCounts& c) override {
    {
      std::lock_guard<std::mutex> lock(m_->mu_);
      m_->state_ = m_->cancel_->cancelled() ? "cancelling" : "running";
      m_->total_ = c.to_analyse;
      m_->run_id_ = m_->runner_->CurrentRunId();
    }
    m_->metrics_->SetQueueDepth(c.to_analyse);
    m_->hub_->Publish("scanned", Dump(json{{"scanned", c.scanned},
                                           {"added", c.added},
                                           {"changed", c.changed},
                                           {"moved", c.moved},
                                           {"gone", c.gone},
                                           {"unchanged", c.unchanged},
                                           {"to_analyse", c.to_analyse},
                                           {"seconds", c.seconds}}));
  }

  void OnProgress(const pipeline::IndexProgress& p) override {
    int64_t new_done = 0, new_failed = 0;
    double infer = 0;
    std::string device;
    {
      std::lock_guard<std::mutex> lock(m_->mu_);
      new_done = p.done - m_->done_;
      new_failed = p.failed - m_->failed_;
      infer = p.infer_s - m_->last_infer_s_;
      m_->last_infer_s_ = p.infer_s;
      m_->total_ = p.total;
      m_->done_ = p.done;
      m_->failed_ = p.failed;
      m_->images_per_s_ = p.images_per_s;
      m_->eta_s_ = p.eta_s;
      if (m_->run_id_ == 0) m_->run_id_ = m_->runner_->CurrentRunId();
      device = m_->device_;
    }
    if (new_done > 0) m_->metrics_->AddIndexed(device, new_done);
    if (new_failed > 0) m_->metrics_->AddIndexErrors(new_failed);
    if (infer > 0) m_->metrics_->ObserveInference(infer);
    m_->metrics_->SetQueueDepth(p.total - p.done);
    m_->hub_->Publish("progress", Dump(json{{"total", p.total},
                                            {"done", p.done},
                                            {"failed", p.failed},
                                            {"queued", p.total - p.done},
                                            {"images_per_s", p.images_per_s},
                                            {"eta_s", p.eta_s}}));
  }

  void OnFailure(const pipeline::FileFailure& f) override {
    m_->hub_->Publish(
        "failure",
        Dump(json{
            {"id", f.media_id}, {"path", Text(f.path)}, {"name", Text(BaseName(f.path))}, {"reason", Text(f.reason)}}));
  }

 private:
  RunManager* m_;
};

RunManager::RunManager(IndexRunner* runner, std::vector<std::string> roots, EventHub* hub, Metrics* metrics)
    : runner_(runner), roots_(std::move(roots)), hub_(hub), metrics_(metrics) {}

RunManager::~RunManager() { CancelAndWait(); }

void RunManager::CancelAndWait() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancel_) cancel_->Cancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool RunManager::running() {
  std::lock_guard<std::mutex> lock(mu_);
  return state_ == "scanning" || state_ == "running" || state_ == "cancelling";
}

Status RunManager::Start() {
  if (roots_.empty()) {
    return InvalidArgument("no library folders configured: start the server with --library PATH (or MEDIADEX_LIBRARY)");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == "scanning" || state_ == "running" || state_ == "cancelling") {
    return Status(StatusCode::kBusy, "an index run is already going");
  }
  auto held = runner_->Lock();
  if (!held.ok()) return held.status();
  if (thread_.joinable()) thread_.join();  // the previous run's thread has finished
  cancel_ = std::make_unique<CancelToken>();
  state_ = "scanning";
  run_id_ = 0;
  total_ = done_ = failed_ = 0;
  images_per_s_ = eta_s_ = last_infer_s_ = 0;
  started_at_ = static_cast<int64_t>(std::time(nullptr));
  error_.clear();
  hub_->Publish("run_started", Dump(StateLocked()));
  thread_ = std::thread([this, l = std::move(held).value()]() mutable { Body(std::move(l)); });
  return Status::Ok();
}

Status RunManager::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ != "scanning" && state_ != "running" && state_ != "cancelling") return NotFound("no index run is going");
  cancel_->Cancel();
  state_ = "cancelling";
  return Status::Ok();
}

void RunManager::Body(std::shared_ptr<void> lock_held) {
  Observer observer(this);
  const auto t0 = std::chrono::steady_clock::now();
  auto summary = runner_->Run(observer, *cancel_, [this](const std::string& device) {
    std::lock_guard<std::mutex> lock(mu_);
    device_ = device;
  });
  lock_held.reset();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  json finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (summary.ok()) {
      state_ = "finished";
      done_ = summary->done + summary->failed;
      failed_ = summary->failed;
      eta_s_ = 0;
    } else {
      state_ = "failed";
      error_ = summary.status().ToString();
      spdlog::error("index run failed: {}", error_);
    }
    finished = {{"done", done_},      {"failed", failed_}, {"cancelled", summary.ok() && summary->cancelled},
                {"seconds", seconds}, {"state", state_},   {"error", error_.empty() ? json() : json(Text(error_))}};
  }
  metrics_->SetQueueDepth(0);
  hub_->Publish("run_finished", Dump(finished));
}

json RunManager::State() {
  std::lock_guard<std::mutex> lock(mu_);
  return StateLocked();
}

json RunManager::StateLocked() const {
  return {{"state", state_},
          {"run_id", run_id_ > 0 ? json(run_id_) : json()},
          {"total", total_},
          {"done", done_},
          {"failed", failed_},
          {"queued", std::max<int64_t>(0, total_ - done_)},
          {"images_per_s", images_per_s_},
          {"eta_s", eta_s_},
          {"started_at", started_at_ > 0 ? json(IsoTime(started_at_)) : json()},
          {"error", error_.empty() ? json() : json(Text(error_))}};
}

}  // namespace mediadex::server
