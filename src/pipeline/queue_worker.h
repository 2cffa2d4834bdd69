// `mediadex worker`: takes leased batches from a catalog's work queue (catalog/work_queue.h) and
// runs each through the same stages as `index` (AnalysePending: decoders, detectors, writer),
// whose writer hands the batch's results to the lease's Finish instead of CommitBatch.
//
//   claim --> AnalysePending(batch) --> results --> Finish(token): written only if the token holds
//     ^                                                 |
//     +------------------- next claim <-----------------+
//   heartbeat thread (its own connection): every lease/3 s extends the lease; when it finds the
//   lease gone (expired and taken by another worker), it cancels the batch, which is dropped.
//
// A Finish that cannot reach the server (a cut network) is retried with the same token until the
// server answers: then the results land if the lease still holds, and are refused (and said so)
// if another worker took the files meanwhile. Stop (SIGTERM): no more claims; the batch in
// flight is finished, the worker marked stopped.
#ifndef MEDIADEX_PIPELINE_QUEUE_WORKER_H_
#define MEDIADEX_PIPELINE_QUEUE_WORKER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/work_queue.h"
#include "core/cancel.h"
#include "core/status.h"
#include "model/detector.h"
#include "pipeline/indexer.h"

namespace mediadex::pipeline {

// --path-map FROM=TO: the catalog's paths (as the enqueuing machine saw them) starting with FROM
// are read at TO on this machine.
struct PathMap {
  std::string from, to;
};
Result<PathMap> ParsePathMap(const std::string& text);
// `path` with the first matching map applied (a map matches a whole leading path component run).
std::string MapPath(const std::string& path, const std::vector<PathMap>& maps);

struct WorkerOptions {
  IndexOptions index;  // detection, decoding and memory settings (roots, observer unused)
  std::vector<PathMap> path_maps;
  int batch = 64;  // files per claim
  double lease_seconds = 60;
  int max_attempts = 3;
  bool until_empty = false;           // exit once nothing is available or leased (else wait for more)
  double poll_seconds = 2;            // between claims that found nothing
  const CancelToken* stop = nullptr;  // stop claiming; finish what is held
  catalog::WorkerInfo worker;
};

struct WorkerSummary {
  int64_t worker_id = 0;
  int64_t batches = 0;
  int64_t done = 0, failed = 0, retried = 0;
  int64_t refused = 0;  // results the lease check refused (the lease had expired and moved on)
  int64_t dropped = 0;  // files of batches dropped when the heartbeat found the lease gone
};

// Opens another queue connection (for the heartbeat thread).
using QueueOpener = std::function<Result<std::unique_ptr<catalog::WorkQueue>>()>;

// Runs until options.stop, or with until_empty until the queue of this model is empty. Errors:
// what stops the worker (the catalog or queue unusable at start, memory below the runtime).
Result<WorkerSummary> RunWorker(const std::vector<const model::Detector*>& detectors, catalog::Catalog& catalog,
                                catalog::WorkQueue& queue, const QueueOpener& open_heartbeat_queue,
                                const WorkerOptions& options);

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_QUEUE_WORKER_H_
