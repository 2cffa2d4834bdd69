#include "cli/common.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace mediadex::cli {
namespace fs = std::filesystem;

int ExitCodeFor(const Status& status) { return status.ok() ? kExitOk : kExitError; }

void AddEngineOptions(CLI::App& app, EngineOptions& options) {
  app.add_option("--device", options.device, "auto | cpu | cuda | cuda:N | mps")
      ->envname("MEDIADEX_DEVICE")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "CPU threads for inference (0 = all cores)")
      ->envname("MEDIADEX_THREADS")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--model", options.model,
                 "model.json (TF.js graph model) or .torchscript (YOLO); default: bundled CenterNet")
      ->envname("MEDIADEX_MODEL");
  app.add_option("--min-score", options.detect.score_min, "drop detections scoring below this")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--iou", options.detect.nms_iou, "NMS: IoU above which the weaker box goes")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--max-detections", options.detect.max_detections, "per image, after NMS")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
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

Result<engine::DeviceChoice> SetUpDevice(const EngineOptions& options) {
  engine::DeviceRequest request;
  request.request = options.device;
  const char* metal = std::getenv("TF_METAL_DEVICE");
  request.metal_env = metal && std::string(metal) == "1";
  auto choice = engine::PickDevice(request);
  if (!choice.ok()) return choice.status();
  for (const auto& note : choice->notes) spdlog::warn("{}", note);
  engine::SetCpuThreads(options.threads);
  spdlog::info("device: {} ({}) — {}", choice->device.name, choice->device.description,
               choice->reason);
  return choice;
}

Result<std::unique_ptr<model::Detector>> LoadModel(const EngineOptions& options,
                                                   const engine::DeviceInfo& device) {
  model::ModelSpec spec;
  spec.path = options.model.empty() ? DefaultModelPath() : options.model;
  return model::LoadDetector(spec, device);
}

void PrintError(const std::string& message) {
  std::fprintf(stderr, "mediadex: error: %s\n", message.c_str());
}

}  // namespace mediadex::cli
