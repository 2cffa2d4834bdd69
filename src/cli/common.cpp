#include "cli/common.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "model/tiled_detector.h"

namespace mediadex::cli {
namespace fs = std::filesystem;

void SettingsFlags::Add(CLI::App& app, const std::vector<std::string>& keys) {
  app.add_option("--config", config_file_, "settings file (key = value lines)")->envname("MEDIADEX_CONFIG");
  for (const auto& key : keys) {
    const ConfigKey* spec = nullptr;
    for (const auto& k : ConfigKeys()) {
      if (key == k.key) spec = &k;
    }
    if (spec == nullptr || key == "metal_env") continue;  // metal_env comes from TF_METAL_DEVICE
    std::string flag = "--" + key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    std::string help = std::string(spec->help) + " [" + (*spec->default_value ? spec->default_value : "\"\"") + "]";
    options_[key] = app.add_option(flag, values_[key], help);
  }
}

Result<Config> SettingsFlags::Resolve() const {
  Config config;
  const std::string file = !config_file_.empty() ? config_file_ : Config::DefaultFilePath();
  if (!file.empty()) MDX_RETURN_IF_ERROR(config.LoadFile(file));
  config.LoadEnv();
  for (const auto& [key, option] : options_) {
    if (option->count() > 0) MDX_RETURN_IF_ERROR(config.SetFlag(key, values_.at(key)));
  }
  return config;
}

const std::vector<std::string>& EngineKeys() {
  static const std::vector<std::string> kKeys = {"device", "metal_env", "threads", "precision", "model",
                                                 "min_score", "iou", "max_detections", "tiles"};
  return kKeys;
}

Result<EngineOptions> EngineOptionsFrom(const Config& config) {
  EngineOptions o;
  o.device.request = config.Get("device");
  o.precision = config.Get("precision");
  auto metal = config.GetBool("metal_env");
  auto threads = config.GetInt("threads");
  auto min_score = config.GetDouble("min_score");
  auto iou = config.GetDouble("iou");
  auto max_detections = config.GetInt("max_detections");
  for (const Status* s : {&metal.status(), &threads.status(), &min_score.status(), &iou.status(),
                          &max_detections.status()}) {
    if (!s->ok()) return *s;
  }
  if (*threads < 0) return InvalidArgument("threads must be >= 0");
  if (*min_score < 0 || *min_score > 1) return InvalidArgument("min_score must be within 0..1");
  if (*iou < 0 || *iou > 1) return InvalidArgument("iou must be within 0..1");
  if (*max_detections < 1) return InvalidArgument("max_detections must be >= 1");
  o.device.metal_env = *metal;
  o.threads = static_cast<int>(*threads);
  o.detect.score_min = static_cast<float>(*min_score);
  o.detect.nms_iou = static_cast<float>(*iou);
  o.detect.max_detections = static_cast<int>(*max_detections);
  auto tiles = model::ParseTileSpec(config.Get("tiles"));
  if (!tiles.ok()) return tiles.status();
  o.tiles = *tiles;
  o.model_path = config.Get("model").empty() ? DefaultModelPath() : config.Get("model");
  return o;
}

std::string DefaultModelPath() {
  const char* kName = "centernet.json";
  if (const char* dir = std::getenv("MEDIADEX_MODEL_DIR"); dir && *dir) {
    return (fs::path(dir) / kName).string();
  }
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/mediadex -> ../models; bin/mediadex -> ../share/mediadex/models
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path()) {
      for (const fs::path& candidate : {dir / "models" / kName, dir / "share/mediadex/models" / kName}) {
        if (fs::exists(candidate, ec)) return candidate.string();
      }
    }
  }
  return (fs::path("models") / kName).string();
}

Result<engine::DeviceChoice> SetUpDevice(const EngineOptions& options, int decode_threads) {
  auto choice = engine::PickDevice(options.device);
  if (!choice.ok()) return choice.status();
  for (const auto& note : choice->notes) spdlog::warn("{}", note);
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // On a GPU the CPU runs only tiny ops: one thread, so none spins against the decoders
  // (measured on an H100 with 12 decoders: 4 threads 40 images/s, 1 thread 105).
  const bool cpu = choice->device.kind == engine::DeviceKind::kCpu;
  const int decoders = DecodeWorkers(decode_threads, choice->device);
  engine::SetCpuThreads(options.threads > 0 ? options.threads : cpu ? std::max(1, cores - decoders) : 1);
  choice->device = engine::OpenDevice(choice->device);
  spdlog::info("device: {} ({}) - {}", choice->device.name, choice->device.description,
               choice->reason);
  return choice;
}

int DecodeWorkers(int64_t configured, const engine::DeviceInfo& device) {
  constexpr int kOriginalAppConcurrency = 3;
  if (configured > 0) return static_cast<int>(configured);
  if (device.kind == engine::DeviceKind::kCuda) return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return kOriginalAppConcurrency;
}

Result<std::unique_ptr<model::Detector>> LoadModel(const EngineOptions& options,
                                                   const engine::DeviceInfo& device) {
  auto precision = engine::ResolvePrecision(options.precision, device);
  if (!precision.ok()) return precision.status();
  model::ModelSpec spec;
  spec.path = options.model_path;
  spec.precision = *precision;
  const auto start = std::chrono::steady_clock::now();
  auto detector = model::LoadDetector(spec, device);
  if (!detector.ok()) return detector.status();
  spdlog::debug("model {} loaded on {} in {:.2f} s", spec.path, device.name,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return model::WithTiles(std::move(detector).value(), options.tiles);
}

void PrintError(const std::string& message) {
  std::fprintf(stderr, "mediadex: error: %s\n", message.c_str());
}

int Fail(const Status& status) {
  PrintError(status.message());
  return kExitError;
}

}  // namespace mediadex::cli
