// mediadex status [--json]: what the catalog holds — files by analysis status (for the latest
// model used), the labels found most, the last runs and the last errors.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <optional>

#include "catalog/postgres/pg_connection.h"
#include "catalog/work_queue.h"
#include "cli/catalog_open.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/json_output.h"

namespace mediadex::cli {
namespace {

constexpr int kRuns = 5;
constexpr int kRecentErrors = 10;

struct StatusArgs {
  SettingsFlags settings;
  bool json = false;
};

int RunStatus(const StatusArgs& args) {
  auto config = args.settings.Resolve();
  if (!config.ok()) return Fail(config.status());
  auto db = OpenCatalogFromConfig(*config, /*create=*/false);
  if (!db.ok()) return Fail(db.status());
  auto summary = (*db)->Summary(0);
  if (!summary.ok()) return Fail(summary.status());
  auto runs = (*db)->RecentRuns(kRuns);
  if (!runs.ok()) return Fail(runs.status());
  auto errors = (*db)->Errors(0, kRecentErrors);
  if (!errors.ok()) return Fail(errors.status());
  const catalog::StatusSummary& s = *summary;
  // A PostgreSQL catalog has a work queue: what is available, leased (by whom, until when),
  // done and failed, and each worker's heartbeat and rate.
  std::optional<catalog::QueueStatus> queue;
  if (catalog::postgres::IsPostgresUrl(config->Get("catalog"))) {
    auto q = catalog::OpenWorkQueue(config->Get("catalog"), "mediadex status");
    if (!q.ok()) return Fail(q.status());
    auto overview = (*q)->Overview(0);
    if (!overview.ok()) return Fail(overview.status());
    queue = std::move(*overview);
  }

  if (args.json) {
    // ordered_json keeps top_labels in count order and the keys in reading order.
    nlohmann::ordered_json j;
    j["catalog"] = JsonText(CatalogPathFromConfig(*config));
    j["total"] = s.total;
    j["pending"] = s.pending;
    j["done"] = s.done;
    j["failed"] = s.failed;
    j["gone"] = s.gone;
    j["top_labels"] = nlohmann::ordered_json::object();
    for (const auto& [label, files] : s.top_labels) j["top_labels"][JsonText(label)] = files;
    j["runs"] = nlohmann::ordered_json::array();
    for (const auto& r : *runs) {
      nlohmann::ordered_json run = {{"id", r.id},
                                    {"model", JsonText(r.model)},
                                    {"device", JsonText(r.device)},
                                    {"started", FormatUnixTime(r.started_at)},
                                    {"finished", nullptr},
                                    {"done", r.counts.done},
                                    {"failed", r.counts.failed},
                                    {"skipped", r.counts.skipped}};
      if (r.finished_at != 0) run["finished"] = FormatUnixTime(r.finished_at);
      j["runs"].push_back(std::move(run));
    }
    j["recent_errors"] = nlohmann::ordered_json::array();
    for (const auto& e : *errors) j["recent_errors"].push_back({{"file", JsonText(e.path)}, {"error", JsonText(e.error)}});
    if (queue) {
      nlohmann::ordered_json q = {{"available", queue->available},
                                  {"leased", queue->leased},
                                  {"done", queue->done},
                                  {"failed", queue->failed}};
      q["leases"] = nlohmann::ordered_json::array();
      for (const auto& l : queue->leases) {
        q["leases"].push_back({{"token", l.token},
                               {"worker_id", l.worker_id},
                               {"worker", JsonText(l.worker)},
                               {"files", l.items},
                               {"until", l.expires},
                               {"expired", l.expired}});
      }
      q["workers"] = nlohmann::ordered_json::array();
      for (const auto& w : queue->workers) {
        q["workers"].push_back({{"id", w.id},
                                {"host", JsonText(w.host)},
                                {"pid", w.pid},
                                {"device", JsonText(w.device)},
                                {"started", w.started},
                                {"last_heartbeat", w.last_heartbeat},
                                {"seconds_since_heartbeat", w.seconds_since_heartbeat},
                                {"stopped", w.stopped},
                                {"done", w.done},
                                {"failed", w.failed},
                                {"files_per_s", w.files_per_s}});
      }
      j["queue"] = std::move(q);
    }
    std::printf("%s\n", DumpJson(j, 2).c_str());
    return kExitOk;
  }

  std::printf("catalog  %s\n", OneLine(CatalogPathFromConfig(*config)).c_str());
  std::printf("files    %lld: %lld done, %lld failed, %lld pending (+%lld gone)\n",
              static_cast<long long>(s.total), static_cast<long long>(s.done),
              static_cast<long long>(s.failed), static_cast<long long>(s.pending),
              static_cast<long long>(s.gone));
  if (!s.top_labels.empty()) {
    std::string labels;
    for (const auto& [label, files] : s.top_labels) {
      labels += (labels.empty() ? "" : ", ") + label + " (" + std::to_string(files) + ")";
    }
    std::printf("labels   %s\n", labels.c_str());
  }
  for (const auto& r : *runs) {
    std::printf("run %-4lld %s on %s, %s -> %s: %lld done, %lld failed, %lld skipped\n",
                static_cast<long long>(r.id), r.model.c_str(), r.device.c_str(),
                FormatUnixTime(r.started_at).c_str(),
                r.finished_at ? FormatUnixTime(r.finished_at).c_str() : "(not finished)",
                static_cast<long long>(r.counts.done), static_cast<long long>(r.counts.failed),
                static_cast<long long>(r.counts.skipped));
  }
  if (queue) {
    std::printf("queue    %lld available, %lld leased, %lld done, %lld failed\n", (long long)queue->available,
                (long long)queue->leased, (long long)queue->done, (long long)queue->failed);
    for (const auto& l : queue->leases) {
      std::printf("  lease %lld: %lld files, worker %lld (%s), until %s%s\n", (long long)l.token, (long long)l.items,
                  (long long)l.worker_id, OneLine(l.worker).c_str(), l.expires.c_str(),
                  l.expired ? " (expired: back in the queue)" : "");
    }
    for (const auto& w : queue->workers) {
      std::printf("worker %-3lld %s pid %lld on %s: last heartbeat %s (%.0f s ago), %lld done, %lld failed, "
                  "%.1f files/s%s\n",
                  (long long)w.id, OneLine(w.host).c_str(), (long long)w.pid, w.device.c_str(),
                  w.last_heartbeat.c_str(), w.seconds_since_heartbeat, (long long)w.done, (long long)w.failed,
                  w.files_per_s, w.stopped ? " (stopped)" : "");
    }
  }
  if (!errors->empty()) {
    std::printf("recent errors (all: `mediadex errors`):\n");
    for (const auto& e : *errors) std::printf("  %s: %s\n", OneLine(e.path).c_str(), OneLine(e.error).c_str());
  }
  return kExitOk;
}

}  // namespace

Command RegisterStatus(CLI::App& app) {
  auto args = std::make_shared<StatusArgs>();
  CLI::App* sub = app.add_subcommand("status", "what the catalog holds: files by status, top labels, runs, errors");
  args->settings.Add(*sub, {"catalog"});
  sub->add_flag("--json", args->json, "one JSON object (keys total, pending, done, failed, gone, top_labels, runs, recent_errors; on "
                "PostgreSQL also queue: available, leased, done, failed, leases, workers)");
  return [args] { return RunStatus(*args); };
}

}  // namespace mediadex::cli
