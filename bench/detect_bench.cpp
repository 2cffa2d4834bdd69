// detect_bench: how many images per second does detection run at, model-only and end to end?
//
//   build/bench/detect_bench --photos DIR [--seconds 20] [--batch-size 8] [--device auto]
//
// model-only: photos decoded, prepared and uploaded once, then Detect() in batches (gather + forward + NMS)
// for --seconds.
// end-to-end: pipeline::DetectFiles over the files (read, decode at DCT scale, resize, forward,
//             NMS), repeated until --seconds have passed.
// Prints one JSON line, so bench/run.sh can put it beside TF.js's figures from the same run.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "engine/device.h"
#include "media/decoder.h"
#include "model/detector.h"
#include "pipeline/detect_files.h"

namespace {

using Clock = std::chrono::steady_clock;
double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
  using namespace mediadex;
  CLI::App app{"mediadex detection benchmark"};
  std::string photos_dir, model_path = "models/centernet.json", device_request = "auto", precision_name = "auto";
  double seconds = 20;
  int batch_size = 8, threads = 0, decode_threads = 3;
  app.add_option("--photos", photos_dir, "folder of photos")->required();
  app.add_option("--model", model_path);
  app.add_option("--device", device_request);
  app.add_option("--precision", precision_name, "auto | fp32 | fp16 | bf16");
  app.add_option("--seconds", seconds, "time per measurement");
  std::vector<int> batch_sizes;
  app.add_option("--batch-size", batch_size);
  app.add_option("--batch-sizes", batch_sizes, "model-only at each of these batch sizes, one JSON line each (no end-to-end)")
      ->delimiter(',');
  app.add_option("--threads", threads, "inference threads (0 = all cores model-only, the cores the decoders leave end-to-end, as the CLI)");
  app.add_option("--decode-threads", decode_threads, "decode threads end-to-end (the CLI's --concurrency)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(photos_dir)) {
    std::string ext = e.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (e.is_regular_file() && (ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".webp")) {
      files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "detect_bench: no files in %s\n", photos_dir.c_str());
    return 2;
  }
  auto choice = engine::PickDevice({device_request, false});
  if (!choice.ok()) {
    std::fprintf(stderr, "detect_bench: %s\n", choice.status().message().c_str());
    return 2;
  }
  engine::SetCpuThreads(threads);
  choice->device = engine::OpenDevice(choice->device);  // as mediadex runs
  auto precision = engine::ResolvePrecision(precision_name, choice->device);
  if (!precision.ok()) {
    std::fprintf(stderr, "detect_bench: %s\n", precision.status().message().c_str());
    return 2;
  }
  model::ModelSpec spec;
  spec.path = model_path;
  spec.precision = *precision;
  auto detector = model::LoadDetector(spec, choice->device);
  if (!detector.ok()) {
    std::fprintf(stderr, "detect_bench: %s\n", detector.status().message().c_str());
    return 2;
  }
  const model::Detector& model = **detector;
  media::DecodeOptions decode;
  decode.target_width = model.info().decode_width;
  decode.target_height = model.info().decode_height;

  // model-only: the same photos, decoded, prepared and uploaded once, as the pipeline's decode
  // workers and upload thread hand them to the detector; Detect gathers the batch on the
  // device, runs the network and NMS.
  std::vector<RgbImage> images;
  for (const auto& f : files) {
    auto image = media::DecodeFile(f, decode);
    if (image.ok() && model.Prepare(&*image).ok() && model.Upload({&*image}).ok()) {
      images.push_back(std::move(image).value());
    }
  }
  // Model-only images/s at batch size b: the same prepared photos, batch after batch.
  auto model_only = [&](int b) -> double {
    std::vector<const RgbImage*> batch;
    for (int i = 0; i < b; ++i) batch.push_back(&images[i % images.size()]);
    // Warm-up: allocator, oneDNN primitive cache, cuDNN autotuning.
    for (int i = 0; i < 3; ++i) (void)model.Detect(batch, {});
    long done = 0;
    const auto start = Clock::now();
    while (Since(start) < seconds) {
      auto r = model.Detect(batch, {});
      if (!r.ok()) {
        std::fprintf(stderr, "detect_bench: %s\n", r.status().message().c_str());
        return -1;
      }
      done += b;
    }
    return done / Since(start);
  };
  auto describe = [&](int b) {
    return nlohmann::json{{"engine", "mediadex"},
                          {"device", choice->device.name},
                          {"device_description", choice->device.description},
                          {"precision", engine::PrecisionName(*precision)},
                          {"batch_size", b},
                          {"images", files.size()},
                          {"seconds", seconds}};
  };
  if (!batch_sizes.empty()) {
    for (int b : batch_sizes) {
      auto out = describe(b);
      out["model_only_ips"] = std::round(model_only(b) * 100) / 100;
      std::printf("%s\n", out.dump().c_str());
      std::fflush(stdout);
    }
    return 0;
  }
  const double model_only_ips = model_only(batch_size);
  if (model_only_ips < 0) return 1;

  // end-to-end: files to boxes, threads split as `mediadex detect` splits them.
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  engine::SetCpuThreads(threads > 0 ? threads : std::max(1, cores - decode_threads));
  pipeline::DetectFilesOptions run;
  run.batch_size = batch_size;
  run.decode_threads = decode_threads;
  run.decode = decode;
  long e2e_done = 0, failed = 0;
  auto start = Clock::now();
  while (Since(start) < seconds) {
    Status ran = pipeline::DetectFiles(model, files, run, [&](const pipeline::FileResult& r) {
      ++e2e_done;
      failed += !r.status.ok();
    });
    if (!ran.ok()) break;  // only with a max_memory, which this benchmark does not set
  }
  const double end_to_end = e2e_done / Since(start);

  nlohmann::json out = describe(batch_size);
  out["threads_end_to_end"] = engine::CpuThreads();
  out["failed"] = failed;
  out["model_only_ips"] = std::round(model_only_ips * 100) / 100;
  out["end_to_end_ips"] = std::round(end_to_end * 100) / 100;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
