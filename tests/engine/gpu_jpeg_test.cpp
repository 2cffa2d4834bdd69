// nvJPEG on a CUDA machine (label gpu): the GPU decodes what the CPU decodes, upright, also
// when batches follow each other without waiting and their bytes go as Decode returns, in a
// CUDA context of its own (straight into LibTorch's memory) and in the process's; a file it
// refuses costs only that file, never the rest of its batch. The same for a GPU Huffman worker
// (GpuJpegEngine::kGpuHuffman), which decodes a file at a time beside the hardware engine.
#include "engine/gpu_jpeg.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "engine/gpu_runtime.h"
#include "media/decoder.h"
#include "media/probe.h"
#include "testutil.h"

namespace mediadex::engine {
namespace {

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << path;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::unique_ptr<GpuJpegDecoder> Decoder() {
  auto cuda = PickDevice({"cuda", false});
  EXPECT_TRUE(cuda.ok()) << cuda.status().ToString();
  if (!cuda.ok()) return nullptr;
  auto decoder = GpuJpegDecoder::Create(OpenDevice(cuda->device));
  EXPECT_TRUE(decoder.ok()) << decoder.status().ToString();
  return decoder.ok() ? std::move(decoder).value() : nullptr;
}

void ExpectDecodesWhatTheCpuDecodesUpright(GpuJpegDecoder* decoder) {
  ASSERT_TRUE(decoder);
  std::vector<std::string> files = {testing::Photo("human-samples.jpg"), testing::Photo("sklearn-china.jpg"),
                                    testing::Photo("plasma-Kite-2560x1600.jpg")};
  for (int o = 1; o <= 8; ++o) files.push_back(testing::TestData("exif_orientation_" + std::to_string(o) + ".jpg"));
  std::vector<std::string> bytes;
  std::vector<GpuJpegDecoder::Input> inputs;
  for (const auto& f : files) bytes.push_back(Bytes(f));
  for (size_t i = 0; i < files.size(); ++i) {
    const auto* data = reinterpret_cast<const uint8_t*>(bytes[i].data());
    auto info = media::ProbeImage(data, bytes[i].size(), {});
    ASSERT_OK(info);
    inputs.push_back({data, bytes[i].size(), info->orientation});
  }
  // Two batches queued back to back, each one's bytes wiped as soon as Decode returns: the
  // pixels must not depend on them, nor the first batch on the second.
  std::vector<std::vector<Result<RgbImage>>> batches;
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> copies = bytes;
    for (size_t i = 0; i < files.size(); ++i) inputs[i].data = reinterpret_cast<const uint8_t*>(copies[i].data());
    batches.push_back(decoder->Decode(inputs));
    for (auto& c : copies) std::fill(c.begin(), c.end(), '\0');
  }
  for (const auto& decoded : batches) {
    ASSERT_EQ(decoded.size(), files.size());
    for (size_t i = 0; i < files.size(); ++i) {
      ASSERT_TRUE(decoded[i].ok()) << files[i] << ": " << decoded[i].status().ToString();
      auto cpu = media::DecodeFile(files[i], {});
      ASSERT_OK(cpu);
      const RgbImage& gpu = *decoded[i];
      ASSERT_EQ(gpu.width, cpu->width) << files[i];
      ASSERT_EQ(gpu.height, cpu->height) << files[i];
      EXPECT_EQ(gpu.full_width, cpu->full_width) << files[i];
      const at::Tensor mine = Upright(*gpu.device_pixels).to(at::kCPU).to(at::kFloat);
      const at::Tensor theirs = at::from_blob(const_cast<uint8_t*>(cpu->pixels.data()),
                                              {cpu->height, cpu->width, 3}, at::kByte).to(at::kFloat);
      // IDCT and chroma upsampling differ between decoders by a few levels, never by a picture.
      EXPECT_LT((mine - theirs).abs().mean().item<float>(), 3.0f) << files[i];
    }
  }
}

TEST(GpuJpegTest, DecodesWhatTheCpuDecodesUpright) {
  auto decoder = Decoder();
  ASSERT_TRUE(decoder);
  // The fast way: a context of its own (the GPU is not in exclusive-process mode here).
  EXPECT_TRUE(decoder->has_own_context()) << "nvJPEG shares the process's CUDA context: run with -v to see why";
  ExpectDecodesWhatTheCpuDecodesUpright(decoder.get());
}

TEST(GpuJpegTest, DecodesTheSameInTheProcessContext) {
  ASSERT_EQ(setenv("MEDIADEX_NVJPEG_CONTEXT", "shared", 1), 0);
  auto decoder = Decoder();
  unsetenv("MEDIADEX_NVJPEG_CONTEXT");
  ASSERT_TRUE(decoder);
  EXPECT_FALSE(decoder->has_own_context());
  ExpectDecodesWhatTheCpuDecodesUpright(decoder.get());
}

std::unique_ptr<GpuJpegDecoder> GpuHuffmanWorker(const GpuJpegDecoder& batched) {
  auto worker = batched.AnotherWorker(GpuJpegEngine::kGpuHuffman);
  EXPECT_TRUE(worker.ok()) << worker.status().ToString();
  if (!worker.ok()) return nullptr;
  EXPECT_EQ((*worker)->backend(), "gpu-huffman");
  return std::move(worker).value();
}

TEST(GpuJpegTest, GpuHuffmanWorkerDecodesWhatTheCpuDecodesUpright) {
  auto decoder = Decoder();
  ASSERT_TRUE(decoder);
  ExpectDecodesWhatTheCpuDecodesUpright(GpuHuffmanWorker(*decoder).get());
}

void ExpectRefusesFilesOneByOne(GpuJpegDecoder* decoder) {
  ASSERT_TRUE(decoder);
  const std::string good = Bytes(testing::TestData("photo.jpg"));
  const std::vector<std::string> bytes = {good, Bytes(testing::TestData("photo_cmyk.jpg")),
                                          Bytes(testing::TestData("rgba.png")), "not a jpeg at all", good,
                                          good.substr(0, good.size() * 3 / 4)};
  std::vector<GpuJpegDecoder::Input> inputs;
  for (const auto& b : bytes) inputs.push_back({reinterpret_cast<const uint8_t*>(b.data()), b.size(), 1});
  auto decoded = decoder->Decode(inputs);
  ASSERT_EQ(decoded.size(), bytes.size());
  EXPECT_OK(decoded[0]);
  EXPECT_FALSE(decoded[1].ok()) << "CMYK goes to the CPU";
  EXPECT_FALSE(decoded[2].ok());
  EXPECT_FALSE(decoded[3].ok());
  EXPECT_OK(decoded[4]);
  EXPECT_FALSE(decoded[5].ok()) << "a file cut short goes to the CPU, which reports it";
}

TEST(GpuJpegTest, RefusesFilesOneByOneNotTheBatch) {
  auto decoder = Decoder();
  ExpectRefusesFilesOneByOne(decoder.get());
}

TEST(GpuJpegTest, GpuHuffmanWorkerRefusesFilesOneByOne) {
  auto decoder = Decoder();
  ASSERT_TRUE(decoder);
  ExpectRefusesFilesOneByOne(GpuHuffmanWorker(*decoder).get());
}

}  // namespace
}  // namespace mediadex::engine
