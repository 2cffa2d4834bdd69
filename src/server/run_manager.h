// Index runs started from the API: one at a time, each on its own thread, watched through
// pipeline::IndexObserver (whose calls feed the event hub and the metrics), cancelled through a
// CancelToken. How a run is set up (settings, model, catalog connection, run lock) is the
// caller's: cli/serve.cpp passes it in as an IndexRunner, so this module needs no LibTorch.
#ifndef MEDIADEX_SERVER_RUN_MANAGER_H_
#define MEDIADEX_SERVER_RUN_MANAGER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/cancel.h"
#include "core/status.h"
#include "pipeline/indexer.h"
#include "pipeline/progress.h"
#include "server/event_hub.h"
#include "server/metrics.h"

namespace mediadex::server {

class IndexRunner {
 public:
  virtual ~IndexRunner() = default;
  // Takes the catalog's run lock (Busy when another process holds it); held by the result.
  virtual Result<std::shared_ptr<void>> Lock() = 0;
  // Runs one index over the library roots (loading the model at the first call). `device`
  // is called with the device's name once it is known.
  virtual Result<pipeline::IndexSummary> Run(pipeline::IndexObserver& observer, const CancelToken& cancel,
                                             const std::function<void(const std::string&)>& device) = 0;
  // The id of the run in progress in the catalog (0 when unknown).
  virtual int64_t CurrentRunId() = 0;
};

class RunManager {
 public:
  RunManager(IndexRunner* runner, std::vector<std::string> roots, EventHub* hub, Metrics* metrics);
  ~RunManager();  // cancels a run and waits for it to commit

  // 202 with the state; 409 when one runs (here or in another process); 400 without roots.
  Status Start();
  Status Cancel();  // FailedPrecondition-like NotFound when idle
  nlohmann::json State();
  bool running();
  void CancelAndWait();

 private:
  class Observer;
  void Body(std::shared_ptr<void> lock);
  nlohmann::json StateLocked() const;

  IndexRunner* runner_;
  std::vector<std::string> roots_;
  EventHub* hub_;
  Metrics* metrics_;
  std::mutex mu_;
  std::thread thread_;
  std::unique_ptr<CancelToken> cancel_;
  // State, guarded by mu_.
  std::string state_ = "idle";
  int64_t run_id_ = 0;
  int64_t total_ = 0, done_ = 0, failed_ = 0;
  double images_per_s_ = 0, eta_s_ = 0, last_infer_s_ = 0;
  int64_t started_at_ = 0;
  std::string error_;
  std::string device_ = "unknown";
};

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_RUN_MANAGER_H_
