// mediadex worker: takes leased batches from a PostgreSQL catalog's work queue (filled by
// `mediadex index --enqueue`) and analyses them with the same stages as `index`. Run any
// number of them, on any machines that see the library (--path-map where it is mounted
// elsewhere). SIGTERM or Ctrl-C: no more claims, the batch in flight is finished, exit 0.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "catalog/work_queue.h"
#include "cli/catalog_open.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/index_setup.h"
#include "core/cancel.h"
#include "pipeline/queue_worker.h"

namespace mediadex::cli {
namespace {

CancelToken g_stop;

void OnStop(int signal) {
  g_stop.Cancel();
  std::signal(signal, SIG_DFL);  // a second one ends the process at once
}

std::string HostName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) return "?";
  return host;
}

struct WorkerArgs {
  SettingsFlags settings;
  std::vector<std::string> path_maps;
  int max_attempts = 3;
  double lease_seconds = 60;
  int batch = 64;
  bool until_empty = false;
  double poll_seconds = 2;
};

int RunWorkerCommand(const WorkerArgs& args) {
  auto config = args.settings.Resolve();
  if (!config.ok()) return Fail(config.status());
  auto settings = ReadIndexSettings(*config);
  if (!settings.ok()) return Fail(settings.status());
  pipeline::WorkerOptions options;
  for (const auto& text : args.path_maps) {
    auto map = pipeline::ParsePathMap(text);
    if (!map.ok()) return Fail(map.status());
    options.path_maps.push_back(*map);
  }
  const std::string url = config->Get("catalog");
  const std::string me = "mediadex worker pid " + std::to_string(::getpid()) + " on " + HostName();
  auto queue = catalog::OpenWorkQueue(url, me.substr(0, 63));
  if (!queue.ok()) return Fail(queue.status());
  auto db = OpenCatalogFromConfig(*config, /*create=*/true);
  if (!db.ok()) return Fail(db.status());
  auto setup = SetUpIndex(*settings);
  if (!setup.ok()) return Fail(setup.status());
  options.index = setup->options;
  options.batch = args.batch;
  options.lease_seconds = args.lease_seconds;
  options.max_attempts = args.max_attempts;
  options.until_empty = args.until_empty;
  options.poll_seconds = args.poll_seconds;
  options.stop = &g_stop;
  options.worker = {HostName(), static_cast<int64_t>(::getpid()), setup->detectors.device_names()};

  std::signal(SIGTERM, OnStop);
  std::signal(SIGINT, OnStop);
  auto summary = pipeline::RunWorker(
      setup->detectors.workers(), **db, **queue, [&] { return catalog::OpenWorkQueue(url, me.substr(0, 63)); },
      options);
  std::signal(SIGTERM, SIG_DFL);
  std::signal(SIGINT, SIG_DFL);
  if (!summary.ok()) return Fail(summary.status());
  std::printf("worker %lld: %lld batches, %lld done, %lld failed, %lld to retry, %lld refused, %lld dropped%s\n",
              (long long)summary->worker_id, (long long)summary->batches, (long long)summary->done,
              (long long)summary->failed, (long long)summary->retried, (long long)summary->refused,
              (long long)summary->dropped, g_stop.cancelled() ? " (stopped by a signal)" : "");
  return kExitOk;
}

}  // namespace

Command RegisterWorker(CLI::App& app) {
  auto args = std::make_shared<WorkerArgs>();
  CLI::App* sub = app.add_subcommand(
      "worker",
      "analyse the files `index --enqueue` queued in a PostgreSQL catalog, in leased batches, beside any "
      "number of other workers (docs/scaling.md)");
  args->settings.Add(*sub, IndexKeys());
  sub->add_option("--path-map", args->path_maps,
                  "FROM=TO: read the catalog's paths under FROM at TO on this machine (e.g. "
                  "/mnt/photos=/Volumes/photos); repeatable, the first match wins");
  sub->add_option("--max-attempts", args->max_attempts,
                  "a file whose analysis failed (or whose lease expired) this many times ends failed with its last "
                  "error")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--lease-seconds", args->lease_seconds,
                  "a claim is this worker's for this long; the heartbeat extends it every third of it. A worker "
                  "silent for longer (dead, paused, cut off) loses its files to the next claim")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--batch", args->batch, "files per claim (one lease, one finishing transaction)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_flag("--until-empty", args->until_empty,
                "exit 0 once nothing is queued or leased for this model (default: wait for more work)");
  sub->add_option("--poll-seconds", args->poll_seconds, "wait between claims that found nothing")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  return [args] { return RunWorkerCommand(*args); };
}

}  // namespace mediadex::cli
