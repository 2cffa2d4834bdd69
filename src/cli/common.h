// What several subcommands share: engine/model options, the default model's location,
// exit codes and logging set-up.
#ifndef MEDIADEX_CLI_COMMON_H_
#define MEDIADEX_CLI_COMMON_H_

#include <CLI/CLI.hpp>

#include <string>

#include "core/status.h"
#include "engine/device.h"
#include "model/detector.h"

namespace mediadex::cli {

// Exit codes: the same for every subcommand.
enum ExitCode : int {
  kExitOk = 0,
  kExitPartialFailure = 1,  // some inputs failed (each said why); the rest was done
  kExitError = 2,           // nothing could be done: bad flag, missing model, no device
};
int ExitCodeFor(const Status& status);

// Flags shared by everything that runs a model. Each flag can also come from the environment
// variable named beside it (flags > env > defaults).
struct EngineOptions {
  std::string device = "auto";   // --device / MEDIADEX_DEVICE
  int threads = 0;               // --threads / MEDIADEX_THREADS (0 = all cores)
  std::string model;             // --model / MEDIADEX_MODEL ("" = the bundled CenterNet)
  model::DetectOptions detect;   // --min-score, --iou, --max-detections
};
void AddEngineOptions(CLI::App& app, EngineOptions& options);

// The bundled model: $MEDIADEX_MODEL_DIR/centernet.json, else models/centernet.json beside or
// above the executable (build tree, install tree), else ./models/centernet.json.
std::string DefaultModelPath();

// Picks the device (honouring TF_METAL_DEVICE=1), sets CPU threads and logs the choice once.
Result<engine::DeviceChoice> SetUpDevice(const EngineOptions& options);

// Loads the detector named by options.model (or the default) onto the chosen device.
Result<std::unique_ptr<model::Detector>> LoadModel(const EngineOptions& options,
                                                   const engine::DeviceInfo& device);

// One line on stderr: "mediadex: error: <message>".
void PrintError(const std::string& message);

}  // namespace mediadex::cli

#endif  // MEDIADEX_CLI_COMMON_H_
