// mediadex doctor: the original app's `test:tf`, made honest. It reports which backend and
// device actually run (and why the others do not), times a 2048x2048 matmul on that device
// against the original 2 s bar, loads the model and times one detection.
// Exit code: 0 healthy, 2 something broken (device, model or detection failed).
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "media/decoder.h"

namespace mediadex::cli {
namespace {

constexpr double kMatmulBarSeconds = 2.0;  // the original README's "should be under 2 seconds"

void Row(const char* key, const std::string& value) { std::printf("  %-16s %s\n", key, value.c_str()); }

std::string Gib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f GiB", bytes / double(1ull << 30));
  return buf;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A real photo to time: the bundled samples when they are there, else a synthetic gradient.
std::pair<std::string, Result<RgbImage>> SamplePhoto(const std::string& model_path, int size) {
  namespace fs = std::filesystem;
  const fs::path sample = fs::path(model_path).parent_path().parent_path() / "samples/human-samples.jpg";
  std::error_code ec;
  if (fs::exists(sample, ec)) {
    media::DecodeOptions options;
    options.target_width = options.target_height = size;
    return {sample.string(), media::DecodeFile(sample.string(), options)};
  }
  RgbImage image;
  image.width = image.full_width = 640;
  image.height = image.full_height = 480;
  image.pixels.resize(640 * 480 * 3);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 7 % 251);
  return {"synthetic 640x480 image", image};
}

int RunDoctor(const SettingsFlags& settings) {
  auto config = settings.Resolve();
  if (!config.ok()) return Fail(config.status());
  auto engine = EngineOptionsFrom(*config);
  if (!engine.ok()) return Fail(engine.status());
  const EngineOptions& options = *engine;
  bool broken = false;
  const engine::BuildInfo build = engine::GetBuildInfo();
  std::printf("mediadex doctor\n");
  Row("LibTorch", build.libtorch_version + "  (CUDA in this build: " + (build.cuda_built ? "yes" : "no") +
                      ", Metal/MPS: " + (build.mps_built ? "yes" : "no") + ")");
  for (const auto& d : engine::ListDevices()) {
    std::string line = d.name + "  " + d.description;
    if (d.memory_total) line += "  (" + Gib(d.memory_free) + " free of " + Gib(d.memory_total) + ")";
    Row("device found", line);
  }

  auto choice = SetUpDevice(options, /*decode_threads=*/0);
  if (!choice.ok()) {
    Row("device used", "NONE: " + choice.status().message());
    std::printf("result: BROKEN\n");
    return kExitError;
  }
  for (const auto& note : choice->notes) Row("note", note);
  Row("device used", choice->device.name + " (" + choice->device.description + ")");
  Row("why", choice->reason);
  Row("threads", "intra-op " + std::to_string(engine::CpuThreads()) + ", cores " +
                     std::to_string(std::thread::hardware_concurrency()));
  Row("tiles", options.tiles.off() ? std::string("off (one pass per photo)")
                                   : options.tiles.ToString() + " (tiles + the whole image for photos much larger than the input)");

  auto matmul = engine::TimeMatmul(choice->device, 2048);
  if (!matmul.ok()) {
    Row("matmul 2048", "FAILED: " + matmul.status().message());
    broken = true;
  } else {
    char buf[160];
    std::snprintf(buf, sizeof(buf), "%.3f s  (%.0f GFLOP/s on %s)  %s (bar: %.0f s)", matmul->seconds,
                  matmul->gflops, choice->device.name.c_str(),
                  matmul->seconds < kMatmulBarSeconds ? "OK" : "SLOW", kMatmulBarSeconds);
    Row("matmul 2048", buf);
  }

  const std::string& model_path = options.model_path;
  auto start = std::chrono::steady_clock::now();
  auto detector = LoadModel(options, choice->device);
  if (!detector.ok()) {
    Row("model", "FAILED: " + detector.status().message());
    broken = true;
  } else {
    const auto& info = (*detector)->info();
    char buf[256];
    std::snprintf(buf, sizeof(buf), "%s  (%s, %dx%d input, %zu labels, version %s) loaded in %.2f s",
                  model_path.c_str(), info.format.c_str(), info.input_width, info.input_height,
                  info.labels.size(), info.version.c_str(), SecondsSince(start));
    Row("model", buf);

    auto [photo_name, photo] = SamplePhoto(model_path, info.decode_width);
    if (!photo.ok()) {
      Row("detection", "FAILED to decode " + photo_name + ": " + photo.status().message());
      broken = true;
    } else {
      start = std::chrono::steady_clock::now();
      auto first = (*detector)->Detect({&photo.value()}, options.detect);
      const double cold = SecondsSince(start);
      start = std::chrono::steady_clock::now();
      auto warm = (*detector)->Detect({&photo.value()}, options.detect);
      const double hot = SecondsSince(start);
      if (!first.ok() || !warm.ok()) {
        Row("detection", "FAILED: " + (first.ok() ? warm.status() : first.status()).message());
        broken = true;
      } else {
        snprintf(buf, sizeof(buf), "%s: %zu objects, first %.3f s, warm %.3f s on %s", photo_name.c_str(),
                 warm->front().size(), cold, hot, choice->device.name.c_str());
        Row("detection", buf);
      }
    }
  }
  std::printf("result: %s\n", broken ? "BROKEN" : "OK");
  return broken ? kExitError : kExitOk;
}

}  // namespace

Command RegisterDoctor(CLI::App& app) {
  auto settings = std::make_shared<SettingsFlags>();
  CLI::App* sub = app.add_subcommand("doctor", "which backend and device run, and are they fast");
  settings->Add(*sub, EngineKeys());
  return [settings] { return RunDoctor(*settings); };
}

}  // namespace mediadex::cli
