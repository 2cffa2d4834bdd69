#include "cli/index_setup.h"

#include <algorithm>

#include "media/scan.h"

namespace mediadex::cli {

namespace {

// The IndexOptions of these settings for a model `info` on `device`.
pipeline::IndexOptions OptionsFor(const IndexSettings& s, const model::ModelInfo& info,
                                  const engine::DeviceInfo& device) {
  pipeline::IndexOptions options;
  options.scan.extensions = media::ParseExtensions(s.extensions);
  options.scan.include_hidden = s.include_hidden;
  options.decode.max_pixels = s.max_pixels;
  options.decode.max_decode_seconds = s.max_decode_seconds;
  if (s.preprocess == "fast") {
    options.decode.target_width = info.decode_width;
    options.decode.target_height = info.decode_height;
  }
  options.detect = s.engine.detect;
  options.settings = pipeline::ResultSettings(s.engine.detect, s.preprocess, s.engine.tiles.ToString());
  options.batch_size = s.batch_size;
  options.concurrency = DecodeWorkers(s.concurrency, device);
  options.jpeg_decode = s.jpeg_decode;
  options.nvjpeg_workers = s.nvjpeg_workers;
  options.gpu_huffman_workers = s.gpu_huffman_workers;
  options.max_memory = s.max_memory;
  options.video_interval_s = s.video_interval_s;
  return options;
}

}  // namespace

std::vector<std::string> IndexKeys() {
  auto keys = EngineKeys();
  keys.insert(keys.end(),
              {"preprocess", "decode", "nvjpeg_workers", "gpu_huffman_workers", "batch_size", "concurrency", "max_memory", "max_pixels",
               "max_decode_seconds", "catalog", "extensions", "include_hidden", "video_interval"});
  return keys;
}

Result<IndexSettings> ReadIndexSettings(const Config& config) {
  IndexSettings s;
  auto engine = EngineOptionsFrom(config);
  if (!engine.ok()) return engine.status();
  s.engine = std::move(*engine);
  auto batch_size = config.GetInt("batch_size");
  auto concurrency = config.GetInt("concurrency");
  auto nvjpeg_workers = config.GetInt("nvjpeg_workers");
  auto gpu_huffman_workers = config.GetInt("gpu_huffman_workers");
  auto max_memory = config.GetBytes("max_memory");
  auto max_pixels = config.GetInt("max_pixels");
  auto max_decode_seconds = config.GetDouble("max_decode_seconds");
  auto include_hidden = config.GetBool("include_hidden");
  auto video_interval = config.GetDouble("video_interval");
  for (const Status* status :
       {&batch_size.status(), &concurrency.status(), &nvjpeg_workers.status(), &gpu_huffman_workers.status(), &max_memory.status(),
        &max_pixels.status(), &max_decode_seconds.status(), &include_hidden.status(), &video_interval.status()}) {
    if (!status->ok()) return *status;
  }
  if (*batch_size < 1 || *concurrency < 0 || *nvjpeg_workers < 1 || *gpu_huffman_workers < 0) {
    return InvalidArgument(
        "batch_size and nvjpeg_workers must be >= 1, concurrency >= 0 (0 = auto), gpu_huffman_workers >= 0");
  }
  if (*video_interval <= 0) return InvalidArgument("video_interval must be > 0 seconds");
  auto jpeg_decode = pipeline::ParseJpegDecode(config.Get("decode"));
  if (!jpeg_decode.ok()) return jpeg_decode.status();

  s.jpeg_decode = *jpeg_decode;
  s.preprocess = config.Get("preprocess");
  s.extensions = config.Get("extensions");
  s.batch_size = static_cast<int>(*batch_size);
  s.concurrency = *concurrency;
  s.nvjpeg_workers = static_cast<int>(*nvjpeg_workers);
  s.gpu_huffman_workers = static_cast<int>(*gpu_huffman_workers);
  s.max_memory = *max_memory;
  s.max_pixels = static_cast<uint64_t>(std::max<int64_t>(1, *max_pixels));
  s.max_decode_seconds = *max_decode_seconds;
  s.include_hidden = *include_hidden;
  s.video_interval_s = *video_interval;
  return s;
}

Result<IndexSetup> SetUpIndex(const IndexSettings& s) {
  auto choice = SetUpDevice(s.engine, static_cast<int>(s.concurrency));
  if (!choice.ok()) return choice.status();
  pipeline::DetectorSetOptions set;
  set.device = choice->device;
  set.request = s.engine.device.request;
  set.threads = s.engine.threads;
  set.load = [&](const engine::DeviceInfo& device) { return LoadModel(s.engine, device); };
  set.warm_up_batch = s.batch_size;
  set.start_nvjpeg = s.jpeg_decode != pipeline::JpegDecode::kCpu;
  auto detectors = pipeline::DetectorSet::Open(set);
  if (!detectors.ok()) return detectors.status();
  const model::Detector& first = *detectors->workers().front();

  pipeline::IndexOptions options = OptionsFor(s, first.info(), choice->device);
  return IndexSetup{std::move(*detectors), std::move(options)};
}

Result<ScanSetup> SetUpScan(const IndexSettings& s) {
  // The model's identity only (its content hash, name, input): loaded on the CPU, not warmed up.
  engine::DeviceRequest cpu;
  cpu.request = "cpu";
  auto choice = engine::PickDevice(cpu);
  if (!choice.ok()) return choice.status();
  auto detector = LoadModel(s.engine, choice->device);
  if (!detector.ok()) return detector.status();
  return ScanSetup{(*detector)->info(), OptionsFor(s, (*detector)->info(), choice->device)};
}

}  // namespace mediadex::cli
