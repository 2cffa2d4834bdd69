// decode_bench: images/s of decoding alone, with N threads, as the pipeline decodes
// (fast: the DCT scale nearest 2x the model input; --exact: full size), and/or with nvJPEG on
// the first GPU (--gpu: batches of --gpu-batch, full size, as `index --decode gpu|auto`; with
// --gpu-huffman-workers, nvJPEG's GPU Huffman decoder beside the hardware engine).
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
  app.add_option("--gpu-workers", gpu_workers, "batched nvJPEG workers (threads, each with its own decode state); may be 0");
  int huffman_workers = 0;
  app.add_option("--gpu-huffman-workers", huffman_workers, "GPU Huffman workers beside them (a file at a time)");
  int huffman_batch = 8;
  app.add_option("--gpu-huffman-batch", huffman_batch, "files a GPU Huffman worker takes at a time");
  // The network beside the decoders, in this process, as `index` runs it: what it costs them.
  constexpr int kNetworkBatch = 64;
  std::string network_model, network_photos;
  app.add_option("--with-network", network_model, "meanwhile run this model at batch 64 on the first CUDA GPU");
  app.add_option("--network-photos", network_photos, "photos for --with-network (decoded once, on the CPU)");
  CLI11_PARSE(app, argc, argv);
  // The first decoder checks the files (as index's feeders do); the workers decode.
  std::unique_ptr<engine::GpuJpegDecoder> checker;
  std::vector<std::unique_ptr<engine::GpuJpegDecoder>> gpu_decoders;  // batched, then GPU Huffman
  if (gpu) {
    auto cuda = engine::PickDevice({"cuda", false});
    if (cuda.ok()) cuda->device = engine::OpenDevice(cuda->device);
    auto created = cuda.ok() ? engine::GpuJpegDecoder::Create(cuda->device) : Result<std::unique_ptr<engine::GpuJpegDecoder>>(cuda.status());
    if (created.ok()) checker = std::move(created).value();
    for (int w = 0; created.ok() && w < gpu_workers + huffman_workers; ++w) {
      created = checker->AnotherWorker(w < gpu_workers ? engine::GpuJpegEngine::kBatched : engine::GpuJpegEngine::kGpuHuffman);
      if (created.ok()) gpu_decoders.push_back(std::move(created).value());
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
  // What nvJPEG takes (the rest, progressive on the hardware engine..., index decodes on the CPU).
  std::vector<engine::GpuJpegDecoder::Input> gpu_inputs;
  for (const auto& f : files) {
    engine::GpuJpegDecoder::Input in{f.data(), f.size(), 1};
    if (checker && checker->Check(&in).ok()) gpu_inputs.push_back(in);
  }
  if (checker && gpu_inputs.empty()) {
    std::fprintf(stderr, "decode_bench: --gpu: nvJPEG takes none of the files\n");
    return 2;
  }
  media::DecodeOptions options;
  if (!exact) options.target_width = options.target_height = model::kDecodeMargin * 512;
  std::atomic<long> done{0}, failed{0}, gpu_done{0}, huffman_done{0}, network_done{0};
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
      const bool huffman = static_cast<int>(w) >= gpu_workers;
      const size_t batch_size = huffman ? huffman_batch : gpu_batch;
      for (size_t i = w * batch_size; !stop;) {
        std::vector<engine::GpuJpegDecoder::Input> batch;
        for (size_t k = 0; k < batch_size; ++k, ++i) batch.push_back(gpu_inputs[i % gpu_inputs.size()]);
        for (const auto& r : decoder->Decode(batch)) {
          failed += !r.ok();
          done += r.ok();
          (huffman ? huffman_done : gpu_done) += r.ok();
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
  if (checker) {
    out["gpu"] = checker->backend();
    out["gpu_batch"] = gpu_batch;
    out["gpu_workers"] = gpu_workers;
    out["gpu_huffman_workers"] = huffman_workers;
    out["gpu_takes"] = gpu_inputs.size();
    out["gpu_ips"] = std::round((gpu_done + huffman_done) / elapsed * 10) / 10;
    out["batched_ips"] = std::round(gpu_done / elapsed * 10) / 10;
    out["huffman_ips"] = std::round(huffman_done / elapsed * 10) / 10;
  }
  if (network) out["network_ips"] = std::round(network_done / elapsed * 10) / 10;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
