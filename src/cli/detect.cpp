// mediadex detect [--json] IMG... : the objects in some photos, now.
//
// Photos are decoded on a small thread pool while the previous batch runs on the device;
// results are printed in the order given. A photo that fails is one line naming the file and
// the reason; the others go on, and the exit code says some failed.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "media/decoder.h"

namespace mediadex::cli {
namespace {

struct DetectArgs {
  EngineOptions engine;
  std::vector<std::string> inputs;
  bool json = false;
  std::string preprocess = "fast";
  int batch_size = 8;
  int concurrency = 0;
  uint64_t max_pixels = 100'000'000;
};

struct Decoded {
  std::string path;
  Result<RgbImage> image = Status(StatusCode::kCancelled, "not decoded");
};

// Files given directly, and the files (not recursively) of directories given, sorted.
std::vector<std::string> ExpandInputs(const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& entry : fs::directory_iterator(input, ec)) {
        if (entry.is_regular_file(ec)) in_dir.push_back(entry.path().string());
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.push_back(input);
    }
  }
  return files;
}

std::vector<Decoded> DecodeChunk(const std::vector<std::string>& paths, size_t begin, size_t end,
                                 const media::DecodeOptions& options, int threads) {
  std::vector<Decoded> out(end - begin);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < out.size();) {
      out[i].path = paths[begin + i];
      out[i].image = media::DecodeFile(out[i].path, options);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return out;
}

void PrintResult(const std::string& path, const RgbImage& image,
                 const std::vector<Detection>& detections, bool json) {
  if (json) {
    nlohmann::json j = {{"file", path}, {"width", image.full_width}, {"height", image.full_height}};
    auto& list = j["detections"] = nlohmann::json::array();
    for (const auto& d : detections) {
      list.push_back({{"label", d.label},
                      {"class", d.class_id},
                      {"score", std::round(d.score * 1e4) / 1e4},
                      {"box", {std::round(d.box.x1 * 10) / 10, std::round(d.box.y1 * 10) / 10,
                               std::round(d.box.x2 * 10) / 10, std::round(d.box.y2 * 10) / 10}}});
    }
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s  %dx%d  %zu object%s\n", path.c_str(), image.full_width, image.full_height,
                detections.size(), detections.size() == 1 ? "" : "s");
    for (const auto& d : detections) {
      std::printf("  %-14s %.2f  [%.0f, %.0f, %.0f, %.0f]\n", d.label.c_str(), d.score, d.box.x1,
                  d.box.y1, d.box.x2, d.box.y2);
    }
  }
  std::fflush(stdout);
}

void PrintFailure(const std::string& path, const Status& status, bool json) {
  PrintError(path + ": " + status.message());
  if (json) std::printf("%s\n", nlohmann::json({{"file", path}, {"error", status.message()}}).dump().c_str());
}

int RunDetect(const DetectArgs& args) {
  auto choice = SetUpDevice(args.engine);
  if (!choice.ok()) {
    PrintError(choice.status().message());
    return kExitError;
  }
  auto detector = LoadModel(args.engine, choice->device);
  if (!detector.ok()) {
    PrintError(detector.status().message());
    return kExitError;
  }
  const model::Detector& model = **detector;
  media::DecodeOptions decode;
  decode.max_pixels = args.max_pixels;
  if (args.preprocess == "fast") {
    decode.target_width = model.info().input_width;
    decode.target_height = model.info().input_height;
  }
  const int threads = args.concurrency > 0
                          ? args.concurrency
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const auto files = ExpandInputs(args.inputs);
  const size_t batch = static_cast<size_t>(args.batch_size);

  int failed = 0;
  auto decode_chunk = [&](size_t begin) {
    return DecodeChunk(files, begin, std::min(files.size(), begin + batch), decode, threads);
  };
  std::future<std::vector<Decoded>> pending;
  if (!files.empty()) pending = std::async(std::launch::async, decode_chunk, 0);
  for (size_t begin = 0; begin < files.size(); begin += batch) {
    std::vector<Decoded> chunk = pending.get();
    if (begin + batch < files.size()) pending = std::async(std::launch::async, decode_chunk, begin + batch);

    std::vector<const RgbImage*> images;
    for (auto& d : chunk) {
      if (d.image.ok()) images.push_back(&d.image.value());
    }
    auto results = model.Detect(images, args.engine.detect);
    if (!results.ok() && results.status().code() == StatusCode::kOutOfMemory && images.size() > 1) {
      spdlog::warn("{}; retrying this batch one photo at a time", results.status().message());
      std::vector<std::vector<Detection>> one_by_one;
      for (const RgbImage* image : images) {
        auto single = model.Detect({image}, args.engine.detect);
        if (!single.ok()) break;
        one_by_one.push_back(std::move(single->front()));
      }
      if (one_by_one.size() == images.size()) results = std::move(one_by_one);
    }
    size_t k = 0;
    for (auto& d : chunk) {
      if (!d.image.ok()) {
        PrintFailure(d.path, d.image.status(), args.json);
        ++failed;
      } else if (!results.ok()) {
        PrintFailure(d.path, results.status(), args.json);
        ++failed;
      } else {
        PrintResult(d.path, d.image.value(), results->at(k++), args.json);
      }
    }
  }
  if (failed > 0) spdlog::warn("{} of {} file(s) failed", failed, files.size());
  return failed > 0 ? kExitPartialFailure : kExitOk;
}

}  // namespace

Command RegisterDetect(CLI::App& app) {
  auto args = std::make_shared<DetectArgs>();
  CLI::App* sub = app.add_subcommand("detect", "detect objects in photos and print them");
  AddEngineOptions(*sub, args->engine);
  sub->add_option("images", args->inputs, "image files or folders")->required();
  sub->add_flag("--json", args->json, "one JSON object per line per image");
  sub->add_option("--preprocess", args->preprocess,
                  "fast: decode near the model size (JPEG DCT scaling); exact: full decode, then resize")
      ->check(CLI::IsMember({"fast", "exact"}))
      ->capture_default_str();
  sub->add_option("--batch-size", args->batch_size, "images per forward pass")
      ->envname("MEDIADEX_BATCH_SIZE")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--concurrency", args->concurrency, "decode threads (0 = all cores)")
      ->envname("MEDIADEX_CONCURRENCY")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--max-pixels", args->max_pixels, "refuse images larger than this (decompression bombs)")
      ->envname("MEDIADEX_MAX_PIXELS")
      ->capture_default_str();
  return [args] { return RunDetect(*args); };
}

}  // namespace mediadex::cli
