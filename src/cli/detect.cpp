// mediadex detect [--json] IMG... : the objects in some photos, now.
//
// pipeline::DetectFiles decodes on a thread pool while the previous batch runs on the device;
// results are printed in the order given. A photo that fails is one line naming the file and
// the reason; the others go on, and the exit code says some failed. Files get index's checks:
// regular files only (a FIFO, or a symlink to /dev/zero, is refused, not read), and the file,
// its decode and the detector stay inside --max-memory.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/json_output.h"
#include "media/decoder.h"
#include "media/scan.h"
#include "pipeline/detect_files.h"

namespace mediadex::cli {
namespace {

struct DetectArgs {
  SettingsFlags settings;
  std::vector<std::string> inputs;
  bool json = false;
};

// Files given directly, and the media files (by extension, not recursively) of folders given.
std::vector<std::string> ExpandInputs(const std::vector<std::string>& inputs,
                                      const std::vector<std::string>& extensions) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& input : inputs) {
    std::error_code ec;
    if (fs::is_directory(input, ec)) {
      std::vector<std::string> in_dir;
      for (const auto& entry : fs::directory_iterator(input, ec)) {
        const std::string ext = media::ExtensionOf(entry.path().string());
        if (!ext.empty() && std::find(extensions.begin(), extensions.end(), ext) != extensions.end() &&
            entry.is_regular_file(ec)) {
          in_dir.push_back(entry.path().string());
        }
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.push_back(input);
    }
  }
  return files;
}

void PrintResult(const pipeline::FileResult& r, bool json) {
  const auto& detections = r.detections;
  if (json) {
    nlohmann::json j = {{"file", JsonText(r.path)}, {"width", r.width}, {"height", r.height}};
    auto& list = j["detections"] = nlohmann::json::array();
    for (const auto& d : detections) {
      list.push_back({{"label", JsonText(d.label)},
                      {"class", d.class_id},
                      {"score", std::round(d.score * 1e4) / 1e4},
                      {"box", {std::round(d.box.x1 * 10) / 10, std::round(d.box.y1 * 10) / 10,
                               std::round(d.box.x2 * 10) / 10, std::round(d.box.y2 * 10) / 10}}});
    }
    std::printf("%s\n", DumpJson(j).c_str());
  } else {
    std::printf("%s  %dx%d  %zu object%s\n", r.path.c_str(), r.width, r.height,
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
  if (json) {
    std::printf("%s\n", DumpJson(nlohmann::json({{"file", JsonText(path)}, {"error", JsonText(status.message())}})).c_str());
  }
}

int RunDetect(const DetectArgs& args) {
  auto config = args.settings.Resolve();
  if (!config.ok()) return Fail(config.status());
  auto engine = EngineOptionsFrom(*config);
  if (!engine.ok()) return Fail(engine.status());
  auto batch_size = config->GetInt("batch_size");
  auto concurrency = config->GetInt("concurrency");
  auto max_pixels = config->GetInt("max_pixels");
  auto max_memory = config->GetBytes("max_memory");
  auto max_decode_seconds = config->GetDouble("max_decode_seconds");
  for (const Status* s : {&batch_size.status(), &concurrency.status(), &max_pixels.status(), &max_memory.status(),
                          &max_decode_seconds.status()}) {
    if (!s->ok()) return Fail(*s);
  }
  const std::string preprocess = config->Get("preprocess");
  if (preprocess != "fast" && preprocess != "exact") {
    return Fail(InvalidArgument("preprocess must be fast or exact, not '" + preprocess + "'"));
  }

  auto choice = SetUpDevice(*engine, static_cast<int>(std::max<int64_t>(0, *concurrency)));
  if (!choice.ok()) return Fail(choice.status());
  auto detector = LoadModel(*engine, choice->device);
  if (!detector.ok()) return Fail(detector.status());
  const model::Detector& model = **detector;

  pipeline::DetectFilesOptions run;
  run.batch_size = static_cast<int>(std::max<int64_t>(1, *batch_size));
  run.decode_threads = static_cast<int>(std::max<int64_t>(0, *concurrency));
  run.decode.max_pixels = static_cast<uint64_t>(std::max<int64_t>(1, *max_pixels));
  run.decode.max_decode_seconds = *max_decode_seconds;
  if (preprocess == "fast") {
    run.decode.target_width = model.info().decode_width;
    run.decode.target_height = model.info().decode_height;
  }
  run.detect = engine->detect;
  run.max_memory = *max_memory;
  const auto files = ExpandInputs(args.inputs, media::ParseExtensions(config->Get("extensions")));
  int failed = 0;
  Status ran = pipeline::DetectFiles(model, files, run, [&](const pipeline::FileResult& r) {
    if (r.status.ok()) {
      PrintResult(r, args.json);
    } else {
      PrintFailure(r.path, r.status, args.json);
      ++failed;
    }
  });
  if (!ran.ok()) return Fail(ran);
  if (failed > 0) spdlog::warn("{} of {} file(s) failed", failed, files.size());
  return failed > 0 ? kExitPartialFailure : kExitOk;
}

}  // namespace

Command RegisterDetect(CLI::App& app) {
  auto args = std::make_shared<DetectArgs>();
  CLI::App* sub = app.add_subcommand("detect", "detect objects in photos and print them");
  auto keys = EngineKeys();
  keys.insert(keys.end(), {"preprocess", "batch_size", "concurrency", "max_memory", "max_pixels", "max_decode_seconds",
                           "extensions"});
  args->settings.Add(*sub, keys);
  sub->add_option("images", args->inputs, "image files or folders")->required();
  sub->add_flag("--json", args->json, "one JSON object per line per image");
  return [args] { return RunDetect(*args); };
}

}  // namespace mediadex::cli
