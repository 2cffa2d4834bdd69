// decode_bench: images/s of decoding alone, with N threads, as the pipeline decodes
// (fast: the DCT scale nearest 2x the model input; --exact: full size), and/or with nvJPEG on
// the first GPU (--gpu: batches of --gpu-batch, full size, as `index --decode gpu|auto`).
//
//   build/bench/decode_bench --photos DIR --threads 16 [--seconds 10] [--exact]
//   build/bench/decode_bench --photos DIR --threads 0 --gpu       # nvJPEG alone
//   build/bench/decode_bench --photos DIR --threads 16 --gpu      # both at once
//   build/bench/decode_bench --photos DIR --threads 0 --gpu --with-network models/centernet.json
//     --network-photos DIR2                                       # nvJPEG beside the network
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

#include "engine/device.h"
#include "engine/gpu_jpeg.h"
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
  bool gpu = false;
  int gpu_batch = 64;
  app.add_flag("--exact", exact, "decode at full size");
  app.add_flag("--gpu", gpu, "also decode on the first CUDA GPU with nvJPEG");
  app.add_option("--gpu-batch", gpu_batch, "JPEGs per nvJPEG batch");
  int gpu_workers = 1;
  app.add_option("--gpu-workers", gpu_workers, "nvJPEG workers (threads, each with its own decode state)");
  // The network beside the decoders, in this process, as `index` runs it: what it costs them.
  constexpr int kNetworkBatch = 64;
  std::string network_model, network_photos;
  app.add_option("--with-network", network_model, "meanwhile run this model at batch 64 on the first CUDA GPU");
  app.add_option("--network-photos", network_photos, "photos for --with-network (decoded once, on the CPU)");
  CLI11_PARSE(app, argc, argv);
  std::vector<std::unique_ptr<engine::GpuJpegDecoder>> gpu_decoders;
  if (gpu) {
    auto cuda = engine::PickDevice({"cuda", false});
    if (cuda.ok()) cuda->device = engine::OpenDevice(cuda->device);
    auto created = cuda.ok() ? engine::GpuJpegDecoder::Create(cuda->device) : Result<std::unique_ptr<engine::GpuJpegDecoder>>(cuda.status());
    for (int w = 1; created.ok() && w <= gpu_workers; ++w) {
      gpu_decoders.push_back(std::move(created).value());
      if (w < gpu_workers) created = gpu_decoders.front()->AnotherWorker();
    }
    if (!created.ok()) {
      std::fprintf(stderr, "decode_bench: --gpu: %s\n", created.status().ToString().c_str());
      return 2;
    }
  }

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
  std::atomic<long> done{0}, failed{0}, gpu_done{0}, network_done{0};
  std::atomic<bool> stop{false};
  std::unique_ptr<model::Detector> network;
  std::vector<RgbImage> network_images;
  std::vector<const RgbImage*> network_batch;
  if (!network_model.empty()) {
    auto cuda = engine::PickDevice({"cuda", false});
    if (cuda.ok()) cuda->device = engine::OpenDevice(cuda->device);
    auto loaded = cuda.ok() ? model::LoadDetector({network_model}, cuda->device)
                            : Result<std::unique_ptr<model::Detector>>(cuda.status());
    if (!loaded.ok()) {
      std::fprintf(stderr, "decode_bench: --with-network: %s\n", loaded.status().ToString().c_str());
      return 2;
    }
    network = std::move(loaded).value();
    media::DecodeOptions decode;
    decode.target_width = network->info().decode_width;
    decode.target_height = network->info().decode_height;
    for (const auto& e : std::filesystem::directory_iterator(network_photos)) {
      auto image = media::DecodeFile(e.path(), decode);
      if (image.ok() && network->Prepare(&*image).ok() && network->Upload({&*image}).ok()) {
        network_images.push_back(std::move(image).value());
      }
    }
    if (network_images.empty()) {
      std::fprintf(stderr, "decode_bench: --network-photos: no photo decoded in '%s'\n", network_photos.c_str());
      return 2;
    }
    for (int i = 0; i < kNetworkBatch; ++i) network_batch.push_back(&network_images[i % network_images.size()]);
    if (Status warmed = network->WarmUp(kNetworkBatch); !warmed.ok()) {  // its graph captured, as `index` does
      std::fprintf(stderr, "decode_bench: --with-network: %s\n", warmed.ToString().c_str());
      return 2;
    }
  }
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
  for (size_t w = 0; w < gpu_decoders.size(); ++w) {
    pool.emplace_back([&, w] {
      engine::GpuJpegDecoder* decoder = gpu_decoders[w].get();
      for (size_t i = w * gpu_batch; !stop;) {
        std::vector<engine::GpuJpegDecoder::Input> batch;
        for (int k = 0; k < gpu_batch; ++k, ++i) {
          const auto& f = files[i % files.size()];
          batch.push_back({f.data(), f.size(), 1});
        }
        for (const auto& r : decoder->Decode(batch)) {
          failed += !r.ok();
          ++done;
          gpu_done += r.ok();
        }
      }
    });
  }
  if (network) {
    pool.emplace_back([&] {
      while (!stop) {
        if (network->Detect(network_batch, {}).ok()) network_done += kNetworkBatch;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  nlohmann::json out = {{"threads", threads}, {"exact", exact}, {"files", files.size()},
                        {"failed", failed.load()}, {"decode_ips", std::round(done / elapsed * 10) / 10}};
  if (!gpu_decoders.empty()) {
    out["gpu"] = gpu_decoders.front()->backend();
    out["gpu_batch"] = gpu_batch;
    out["gpu_workers"] = gpu_workers;
    out["gpu_ips"] = std::round(gpu_done / elapsed * 10) / 10;
  }
  if (network) out["network_ips"] = std::round(network_done / elapsed * 10) / 10;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
