// What every command that runs the indexer shares (`index`, `serve`, `worker`): the settings it
// takes, checked before anything heavy starts, and the detectors and IndexOptions they make.
//
//   auto settings = ReadIndexSettings(config);      // bad values fail here, before the catalog
//   ... open the catalog, take its run lock ...
//   auto setup = SetUpIndex(*settings);              // device, warm detectors, options
//   setup->options.roots = roots;                    // the caller adds roots, observer, cancel
//   pipeline::RunIndex(setup->detectors.workers(), catalog, setup->options);
#ifndef MEDIADEX_CLI_INDEX_SETUP_H_
#define MEDIADEX_CLI_INDEX_SETUP_H_

#include <string>
#include <vector>

#include "cli/common.h"
#include "core/config.h"
#include "core/status.h"
#include "pipeline/detector_set.h"
#include "pipeline/indexer.h"

namespace mediadex::cli {

// The config keys of an index run: the engine's and the indexer's.
std::vector<std::string> IndexKeys();

// An index run's settings, parsed and range-checked.
struct IndexSettings {
  EngineOptions engine;
  pipeline::JpegDecode jpeg_decode = pipeline::JpegDecode::kAuto;
  std::string preprocess;
  std::string extensions;
  int batch_size = 64;
  int64_t concurrency = 0;  // as configured; 0 = auto (DecodeWorkers)
  int nvjpeg_workers = 1;
  int gpu_huffman_workers = 1;
  uint64_t max_memory = 0;
  uint64_t max_pixels = 0;
  double max_decode_seconds = 0;
  bool include_hidden = false;
  double video_interval_s = 2.0;
};
Result<IndexSettings> ReadIndexSettings(const Config& config);

struct IndexSetup {
  pipeline::DetectorSet detectors;
  pipeline::IndexOptions options;  // everything but roots, observer and cancel
};

// Picks the device (saying why), loads and warms the detectors, and fills the options.
Result<IndexSetup> SetUpIndex(const IndexSettings& settings);

// For `index --enqueue`, which scans but detects nothing: the model's identity (loaded on the
// CPU, not warmed up) and the options, whose settings key the queue's items as a worker's do.
struct ScanSetup {
  model::ModelInfo model;
  pipeline::IndexOptions options;
};
Result<ScanSetup> SetUpScan(const IndexSettings& settings);

}  // namespace mediadex::cli

#endif  // MEDIADEX_CLI_INDEX_SETUP_H_
