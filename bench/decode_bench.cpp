// decode_bench: images/s of decoding alone, with N threads, as the pipeline decodes
// (fast: the DCT scale nearest 2x the model input; --exact: full size).
//
//   build/bench/decode_bench --photos DIR --threads 16 [--seconds 10] [--exact]
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "media/decoder.h"
#include "model/detector.h"

int main(int argc, char** argv) {
  using namespace mediadex;
  CLI::App app{"mediadex decode benchmark"};
  std::string photos_dir;
  int threads = static_cast<int>(std::thread::hardware_concurrency());
  double seconds = 10;
  bool exact = false;
  app.add_option("--photos", photos_dir)->required();
  app.add_option("--threads", threads);
  app.add_option("--seconds", seconds);
  app.add_flag("--exact", exact, "decode at full size");
  CLI11_PARSE(app, argc, argv);

  // Files are read into memory first: this measures decoding, not the disk.
  std::vector<std::vector<uint8_t>> files;
  for (const auto& e : std::filesystem::directory_iterator(photos_dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    files.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  if (files.empty()) return 2;
  media::DecodeOptions options;
  if (!exact) options.target_width = options.target_height = model::kDecodeMargin * 512;
  std::atomic<long> done{0}, failed{0};
  std::atomic<bool> stop{false};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t i = t; !stop; i += threads) {
        const auto& f = files[i % files.size()];
        failed += !media::DecodeImage(f.data(), f.size(), options).ok();
        ++done;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json out = {{"threads", threads}, {"exact", exact}, {"files", files.size()},
                        {"failed", failed.load()}, {"decode_ips", std::round(done / elapsed * 10) / 10}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
