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

#include "cli/catalog_open.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/cancel.h"
#include "media/scan.h"
#include "pipeline/detector_set.h"
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
  if (s >= 3600) std::snprintf(buf, sizeof(buf), "%ldh%02ldm", s / 3600, s % 3600 / 60);
  else if (s >= 60) std::snprintf(buf, sizeof(buf), "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof(buf), "%lds", s);
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
      std::snprintf(line, sizeof(line), "\r[%s] %lld/%lld  %.1f img/s  ETA %s  %lld failed  batch %d ",
                    bar.c_str(), (long long)p.done, (long long)p.total, p.images_per_s,
                    Duration(eta).c_str(), (long long)p.failed, p.batch_size);
      std::fputs(line, stderr);
      if (finished) std::fputc('\n', stderr);
    } else {
      std::snprintf(line, sizeof(line), "progress: %lld/%lld files, %.1f img/s, ETA %s, %lld failed\n",
                    (long long)p.done, (long long)p.total, p.images_per_s, Duration(eta).c_str(),
                    (long long)p.failed);
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
              (long long)s.scanned, (long long)s.added, (long long)s.changed, (long long)s.moved,
              (long long)s.gone, (long long)s.unchanged, s.scan_seconds);
  std::printf("analysed %lld files on %s: %lld done, %lld failed%s\n", (long long)(s.done + s.failed),
              device.c_str(), (long long)s.done, (long long)s.failed,
              s.cancelled ? " (interrupted: run again to resume)" : "");
  if (s.video_frames > 0) std::printf("video frames analysed: %lld\n", (long long)s.video_frames);
  std::printf("time %.2f s, %.1f images/s, peak memory %s (budget for images in flight %s), final batch size %d\n",
              s.seconds, s.images_per_s, FormatBytes(s.peak_rss).c_str(), FormatBytes(s.budget_bytes).c_str(),
              s.final_batch_size);
  std::printf("stage time: read+decode %.2f s (all %d CPU decode workers), inference %.2f s, catalog writes %.2f s\n",
              s.read_decode_s, s.decode_workers, s.infer_s, s.write_s);
  if (!s.gpu_decoder.empty()) {
    std::printf("GPU JPEG decoding (nvJPEG, %s, %d workers): %lld files, %.2f s (all GPUs); the rest decoded on the CPU\n",
                s.gpu_decoder.c_str(), s.gpu_decode_workers, (long long)s.gpu_decoded, s.gpu_decode_s);
  }
  std::printf("catalog: %s\n", catalog_path.c_str());
}

struct IndexArgs {
  SettingsFlags settings;
  std::vector<std::string> roots;
};

int RunIndexCommand(const IndexArgs& args, bool quiet) {
  auto config = args.settings.Resolve();
  if (!config.ok()) return Fail(config.status());
  auto engine = EngineOptionsFrom(*config);
  if (!engine.ok()) return Fail(engine.status());
  auto batch_size = config->GetInt("batch_size");
  auto concurrency = config->GetInt("concurrency");
  auto nvjpeg_workers = config->GetInt("nvjpeg_workers");
  auto max_memory = config->GetBytes("max_memory");
  auto max_pixels = config->GetInt("max_pixels");
  auto max_decode_seconds = config->GetDouble("max_decode_seconds");
  auto include_hidden = config->GetBool("include_hidden");
  auto video_interval = config->GetDouble("video_interval");
  for (const Status* s : {&batch_size.status(), &concurrency.status(), &nvjpeg_workers.status(), &max_memory.status(),
                          &max_pixels.status(), &max_decode_seconds.status(), &include_hidden.status(),
                          &video_interval.status()}) {
    if (!s->ok()) return Fail(*s);
  }
  if (*batch_size < 1 || *concurrency < 0 || *nvjpeg_workers < 1) {
    return Fail(InvalidArgument("batch_size and nvjpeg_workers must be >= 1, concurrency >= 0 (0 = auto)"));
  }
  if (*video_interval <= 0) return Fail(InvalidArgument("video_interval must be > 0 seconds"));

  auto catalog = OpenCatalogFromConfig(*config, /*create=*/true);
  if (!catalog.ok()) return Fail(catalog.status());
  auto run_lock = LockCatalogForRun(*config);  // a second run on this catalog is refused, not doubled
  if (!run_lock.ok()) return Fail(run_lock.status());
  auto choice = SetUpDevice(*engine, static_cast<int>(*concurrency));
  if (!choice.ok()) return Fail(choice.status());
  auto jpeg_decode = pipeline::ParseJpegDecode(config->Get("decode"));
  if (!jpeg_decode.ok()) return Fail(jpeg_decode.status());
  pipeline::DetectorSetOptions set;
  set.device = choice->device;
  set.request = engine->device.request;
  set.threads = engine->threads;
  set.load = [&](const engine::DeviceInfo& device) { return LoadModel(*engine, device); };
  set.warm_up_batch = static_cast<int>(*batch_size);
  set.start_nvjpeg = *jpeg_decode != pipeline::JpegDecode::kCpu;
  auto detectors = pipeline::DetectorSet::Open(set);
  if (!detectors.ok()) return Fail(detectors.status());
  const model::Detector& first = *detectors->workers().front();

  pipeline::IndexOptions options;
  options.roots = args.roots;
  options.scan.extensions = media::ParseExtensions(config->Get("extensions"));
  options.scan.include_hidden = *include_hidden;
  options.decode.max_pixels = static_cast<uint64_t>(std::max<int64_t>(1, *max_pixels));
  options.decode.max_decode_seconds = *max_decode_seconds;
  if (config->Get("preprocess") == "fast") {
    options.decode.target_width = first.info().decode_width;
    options.decode.target_height = first.info().decode_height;
  }
  options.detect = engine->detect;
  options.settings = pipeline::ResultSettings(engine->detect, config->Get("preprocess"));
  options.batch_size = static_cast<int>(*batch_size);
  options.concurrency = DecodeWorkers(*concurrency, choice->device);
  options.jpeg_decode = *jpeg_decode;
  options.nvjpeg_workers = static_cast<int>(*nvjpeg_workers);
  options.max_memory = *max_memory;
  options.video_interval_s = *video_interval;
  ProgressPrinter progress(quiet);
  options.observer = &progress;
  options.cancel = &g_interrupted;

  std::signal(SIGINT, OnSigint);
  auto summary = pipeline::RunIndex(detectors->workers(), **catalog, options);
  std::signal(SIGINT, SIG_DFL);
  if (!summary.ok()) return Fail(summary.status());
  for (const auto& w : summary->warnings) spdlog::warn("{}", w);
  if (!quiet) PrintSummary(*summary, detectors->device_names(), config->Get("catalog").empty() ? DefaultCatalogPath() : config->Get("catalog"));
  if (summary->cancelled) return kExitPartialFailure;
  return summary->failed > 0 ? kExitPartialFailure : kExitOk;
}

}  // namespace

Command RegisterIndex(CLI::App& app) {
  auto args = std::make_shared<IndexArgs>();
  auto quiet = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand("index", "index a library: detect objects in every photo and video, incrementally");
  auto keys = EngineKeys();
  keys.insert(keys.end(), {"preprocess", "decode", "nvjpeg_workers", "batch_size", "concurrency", "max_memory",
                           "max_pixels", "max_decode_seconds", "catalog", "extensions", "include_hidden",
                           "video_interval"});
  args->settings.Add(*sub, keys);
  sub->add_option("paths", args->roots, "folders (or files) to index")->required();
  sub->add_flag("--quiet", *quiet, "no progress and no summary; errors only");
  return [args, quiet] {
    if (*quiet) spdlog::set_level(spdlog::level::err);
    return RunIndexCommand(*args, *quiet);
  };
}

}  // namespace mediadex::cli
