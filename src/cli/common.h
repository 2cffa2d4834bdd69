// What several subcommands share: settings (flags > env > file > defaults, see core/config.h),
// engine/model set-up, exit codes.
#ifndef MEDIADEX_CLI_COMMON_H_
#define MEDIADEX_CLI_COMMON_H_

#include <CLI/CLI.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "engine/device.h"
#include "model/detector.h"
#include "model/tiling.h"

namespace mediadex::cli {

// Exit codes: the same for every subcommand.
enum ExitCode : int {
  kExitOk = 0,
  kExitPartialFailure = 1,  // some inputs failed (each said why); the rest was done
  kExitError = 2,           // nothing could be done: bad flag, missing model, no device
};

// Adds `--config FILE` and one flag per config key to a subcommand, and after parsing resolves
// them with the environment, the config file and the defaults into a Config.
class SettingsFlags {
 public:
  void Add(CLI::App& app, const std::vector<std::string>& keys);
  Result<Config> Resolve() const;

 private:
  std::string config_file_;
  std::map<std::string, std::string> values_;
  std::map<std::string, CLI::Option*> options_;
};

// The keys every model-running subcommand takes.
const std::vector<std::string>& EngineKeys();

struct EngineOptions {
  engine::DeviceRequest device;
  int threads = 0;                 // 0: the cores the decoders leave (see SetUpDevice)
  std::string precision = "auto";  // resolved against the device in LoadModel
  std::string model_path;       // resolved: the flag/env/file value or the bundled model
  model::DetectOptions detect;
  model::TileSpec tiles;  // --tiles: LoadModel wraps the detector (model/tiled_detector.h)
};
Result<EngineOptions> EngineOptionsFrom(const Config& config);

// The bundled model: $MEDIADEX_MODEL_DIR/centernet.json, else models/centernet.json beside or
// above the executable (build tree, install tree), else ./models/centernet.json.
std::string DefaultModelPath();

// Picks the device (says once what was asked for and is missing), sets CPU threads and the
// device for work (engine::OpenDevice). With
// threads = 0, inference gets the cores the `decode_threads` decoders leave (at least one):
// LibTorch's OpenMP workers spin while they wait, and on an oversubscribed CPU that made a
// run 9x slower (2 cores, 3 decoders: 2 inference threads 21.6 s, 1 thread 2.4 s).
// `decode_threads` is the configured --concurrency (0 = auto, see DecodeWorkers).
Result<engine::DeviceChoice> SetUpDevice(const EngineOptions& options, int decode_threads);

// Decode workers for --concurrency on `device`: a positive value as it is; 0 (the default) is
// every core beside a CUDA GPU, which only decoding keeps fed (with nvJPEG the CPU decoders
// yield to its feeders), and elsewhere the original app's 3, which leaves the cores to inference.
int DecodeWorkers(int64_t configured, const engine::DeviceInfo& device);
// Loads the model and, unless options.tiles is off, wraps it in the tiling detector.
Result<std::unique_ptr<model::Detector>> LoadModel(const EngineOptions& options,
                                                   const engine::DeviceInfo& device);

// One line on stderr: "mediadex: error: <message>".
void PrintError(const std::string& message);
// Prints the error and returns kExitError: for failures that stop a whole subcommand.
int Fail(const Status& status);

}  // namespace mediadex::cli

#endif  // MEDIADEX_CLI_COMMON_H_
