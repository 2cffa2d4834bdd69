// mediadex index PATH... : index a whole library, incrementally and resumably.
//
// Ctrl-C stops after the batches in flight are committed (a second Ctrl-C kills at once; even
// then at most the batches in flight are lost). Progress goes to stderr: a live bar on a
// terminal, a line every 10 s otherwise, nothing with --quiet.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "catalog/work_queue.h"
#include "cli/catalog_open.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/index_setup.h"
#include "cli/shard_option.h"
#include "core/cancel.h"
#include "pipeline/indexer.h"

namespace mediadex::cli {
namespace {

CancelToken g_interrupted;

void OnSigint(int) {
  g_interrupted.Cancel();
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

std::string Duration(double seconds) {
  char buf[32];
  const long s = static_cast<long>(seconds + 0.5);
  if (s >= 3600)
    std::snprintf(buf, sizeof(buf), "%ldh%02ldm", s / 3600, s % 3600 / 60);
  else if (s >= 60)
    std::snprintf(buf, sizeof(buf), "%ldm%02lds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof(buf), "%lds", s);
  return buf;
}

// Renders progress: a redrawn bar on a terminal, periodic plain lines elsewhere.
class ProgressPrinter : public pipeline::IndexObserver {
 public:
  explicit ProgressPrinter(bool quiet) : quiet_(quiet), tty_(::isatty(STDERR_FILENO) == 1) {}

  void OnProgress(const pipeline::IndexProgress& p) override {
    if (quiet_ || p.total == 0 || finished_) return;
    const auto now = std::chrono::steady_clock::now();
    const bool finished = finished_ = p.done >= p.total;
    const double since_last = std::chrono::duration<double>(now - last_).count();
    if (!finished && since_last < (tty_ ? 0.2 : 10.0)) return;
    last_ = now;
    const double eta = p.eta_s;
    char line[256];
    if (tty_) {
      constexpr int kWidth = 30;
      const int filled = static_cast<int>(kWidth * p.done / std::max<int64_t>(1, p.total));
      std::string bar(filled, '#');
      bar.resize(kWidth, '.');
      std::snprintf(line, sizeof(line), "\r[%s] %lld/%lld  %.1f img/s  ETA %s  %lld failed  batch %d ", bar.c_str(),
                    (long long)p.done, (long long)p.total, p.images_per_s, Duration(eta).c_str(), (long long)p.failed,
                    p.batch_size);
      std::fputs(line, stderr);
      if (finished) std::fputc('\n', stderr);
    } else {
      std::snprintf(line, sizeof(line), "progress: %lld/%lld files, %.1f img/s, ETA %s, %lld failed\n",
                    (long long)p.done, (long long)p.total, p.images_per_s, Duration(eta).c_str(), (long long)p.failed);
      std::fputs(line, stderr);
    }
    std::fflush(stderr);
  }

 private:
  const bool quiet_;
  const bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point last_{};
};

void PrintSummary(const pipeline::IndexSummary& s, const std::string& device, const std::string& catalog_path) {
  std::printf("scanned %lld files: %lld new, %lld changed, %lld moved, %lld gone, %lld unchanged (%.2f s)\n",
              (long long)s.scanned, (long long)s.added, (long long)s.changed, (long long)s.moved, (long long)s.gone,
              (long long)s.unchanged, s.scan_seconds);
  std::printf("analysed %lld files on %s: %lld done, %lld failed%s\n", (long long)(s.done + s.failed), device.c_str(),
              (long long)s.done, (long long)s.failed, s.cancelled ? " (interrupted: run again to resume)" : "");
  if (s.video_frames > 0) std::printf("video frames analysed: %lld\n", (long long)s.video_frames);
  std::printf("time %.2f s, %.1f images/s, peak memory %s (budget for images in flight %s), final batch size %d\n",
              s.seconds, s.images_per_s, FormatBytes(s.peak_rss).c_str(), FormatBytes(s.budget_bytes).c_str(),
              s.final_batch_size);
  std::printf("stage time: read+decode %.2f s (all %d CPU decode workers), inference %.2f s, catalog writes %.2f s\n",
              s.read_decode_s, s.decode_workers, s.infer_s, s.write_s);
  if (!s.gpu_decoder.empty()) {
    std::printf(
        "GPU JPEG decoding (nvJPEG, %s, %d workers): %lld files, %.2f s (all GPUs); the rest decoded on the CPU\n",
        s.gpu_decoder.c_str(), s.gpu_decode_workers, (long long)s.gpu_decoded, s.gpu_decode_s);
    if (s.gpu_huffman_workers > 0) {
      std::printf("  of which by %d GPU Huffman workers beside it: %lld files\n", s.gpu_huffman_workers,
                  (long long)s.gpu_huffman_decoded);
    }
  }
  std::printf("catalog: %s\n", catalog_path.c_str());
}

struct IndexArgs {
  SettingsFlags settings;
  std::vector<std::string> roots;
  CLI::Option* shard_flag = nullptr;
  std::string shard;  // "I/N", "auto" or "" (given without a value)
  int64_t shards = 0;
  bool enqueue = false;
};

// --shard as given (or none: the whole library), saying where it came from.
Result<pipeline::Shard> ShardOf(const IndexArgs& args) {
  if (args.shard_flag->count() == 0) {
    if (args.shards > 0) return InvalidArgument("--shards N needs --shard (I/N or auto)");
    return pipeline::Shard{};
  }
  auto resolved = ResolveShard(args.shard, args.shards, [](const char* name) { return std::getenv(name); });
  if (!resolved.ok()) return resolved.status();
  spdlog::info("shard {} of the library, from {}", resolved->shard.ToString(), resolved->source);
  return resolved->shard;
}

// --enqueue: scan and reconcile as `index` does, then queue what needs work for `mediadex
// worker`s instead of analysing it here.
int RunEnqueue(const IndexArgs& args, const Config& config, const IndexSettings& settings,
               const pipeline::Shard& shard, bool quiet) {
  const std::string url = config.Get("catalog");
  auto queue = catalog::OpenWorkQueue(url, "mediadex index --enqueue pid " + std::to_string(::getpid()));
  if (!queue.ok()) return Fail(queue.status());
  auto catalog = OpenCatalogFromConfig(config, /*create=*/true);
  if (!catalog.ok()) return Fail(catalog.status());
  auto setup = SetUpScan(settings);
  if (!setup.ok()) return Fail(setup.status());
  pipeline::IndexOptions& options = setup->options;
  options.roots = args.roots;
  options.shard = shard;
  pipeline::IndexSummary s;
  int64_t model_id = 0;
  auto todo = pipeline::ScanForWork(**catalog, setup->model, options, &s, &model_id);
  if (!todo.ok()) return Fail(todo.status());
  std::vector<int64_t> ids;
  ids.reserve(todo->size());
  for (const auto& row : *todo) ids.push_back(row.id);
  auto queued = (*queue)->Enqueue(model_id, ids);
  if (!queued.ok()) return Fail(queued.status());
  for (const auto& w : s.warnings) spdlog::warn("{}", w);
  auto overview = (*queue)->Overview(model_id);
  if (!overview.ok()) return Fail(overview.status());
  if (!quiet) {
    std::printf("scanned %lld files: %lld new, %lld changed, %lld moved, %lld gone, %lld unchanged (%.2f s)\n",
                (long long)s.scanned, (long long)s.added, (long long)s.changed, (long long)s.moved,
                (long long)s.gone, (long long)s.unchanged, s.scan_seconds);
    std::printf("enqueued %lld files that need work (%lld newly available) for %s (%s)\n", (long long)ids.size(),
                (long long)*queued, setup->model.name.c_str(), options.settings.c_str());
    std::printf("queue: %lld available, %lld leased, %lld done, %lld failed; start `mediadex worker --catalog URL`\n",
                (long long)overview->available, (long long)overview->leased, (long long)overview->done,
                (long long)overview->failed);
  }
  return kExitOk;
}

int RunIndexCommand(const IndexArgs& args, bool quiet) {
  auto config = args.settings.Resolve();
  if (!config.ok()) return Fail(config.status());
  auto settings = ReadIndexSettings(*config);
  if (!settings.ok()) return Fail(settings.status());
  auto shard = ShardOf(args);
  if (!shard.ok()) return Fail(shard.status());
  if (args.enqueue) return RunEnqueue(args, *config, *settings, *shard, quiet);
  auto catalog = OpenCatalogFromConfig(*config, /*create=*/true);
  if (!catalog.ok()) return Fail(catalog.status());
  auto run_lock = LockCatalogForRun(*config);  // a second run on this catalog is refused, not doubled
  if (!run_lock.ok()) return Fail(run_lock.status());
  auto setup = SetUpIndex(*settings);
  if (!setup.ok()) return Fail(setup.status());
  const pipeline::DetectorSet& detectors = setup->detectors;
  pipeline::IndexOptions& options = setup->options;
  options.roots = args.roots;
  options.shard = *shard;
  ProgressPrinter progress(quiet);
  options.observer = &progress;
  options.cancel = &g_interrupted;

  std::signal(SIGINT, OnSigint);
  auto summary = pipeline::RunIndex(detectors.workers(), **catalog, options);
  std::signal(SIGINT, SIG_DFL);
  if (!summary.ok()) return Fail(summary.status());
  for (const auto& w : summary->warnings) spdlog::warn("{}", w);
  if (!quiet) PrintSummary(*summary, detectors.device_names(), CatalogPathFromConfig(*config));
  if (summary->cancelled) return kExitPartialFailure;
  return summary->failed > 0 ? kExitPartialFailure : kExitOk;
}

}  // namespace

Command RegisterIndex(CLI::App& app) {
  auto args = std::make_shared<IndexArgs>();
  auto quiet = std::make_shared<bool>(false);
  CLI::App* sub =
      app.add_subcommand("index", "index a library: detect objects in every photo and video, incrementally");
  args->settings.Add(*sub, IndexKeys());
  sub->add_option("paths", args->roots, "folders (or files) to index")->required();
  sub->add_flag("--quiet", *quiet, "no progress and no summary; errors only");
  args->shard_flag =
      sub->add_option("--shard", args->shard,
                      "only shard I of N (0-based, as Kubernetes' JOB_COMPLETION_INDEX): the files whose path "
                      "relative to its library root hashes (xxh3) to I mod N; only they can be found gone. "
                      "Without a value (or `auto`): JOB_COMPLETION_INDEX with --shards N, else "
                      "SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT (write `--shard auto` before the paths)")
          ->expected(0, 1);
  sub->add_flag("--enqueue", args->enqueue,
                "scan and reconcile (new, changed, moved, gone) but analyse nothing: put the files that need work "
                "in the PostgreSQL catalog's queue for `mediadex worker`s (docs/scaling.md)");
  sub->add_option("--shards", args->shards,
                  "the number of shards N for --shard auto (Kubernetes: the Job's completions)")
      ->check(CLI::PositiveNumber);
  return [args, quiet] {
    if (*quiet) spdlog::set_level(spdlog::level::err);
    return RunIndexCommand(*args, *quiet);
  };
}

}  // namespace mediadex::cli
