// `index --decode gpu` on a CUDA machine (label gpu): nvJPEG's results are the CPU decoder's,
// and what nvJPEG refuses (PNG, CMYK, progressive on the hardware decoder) is decoded on the CPU
// without an error.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "catalog/catalog.h"
#include "engine/device.h"
#include "library.h"
#include "model/detector.h"
#include "pipeline/indexer.h"
#include "testutil.h"

namespace mediadex::pipeline {
namespace {
using testing::TempLibrary;

// path -> detections, best first.
std::map<std::string, std::vector<Detection>> Results(catalog::Catalog& c) {
  std::map<std::string, std::vector<Detection>> out;
  auto rows = c.ExportAll(0);
  EXPECT_OK(rows);
  for (const auto& row : *rows) {
    auto& v = out[std::filesystem::path(row.path).filename().string()];
    for (const auto& d : row.detections) v.push_back(d.detection);
    std::sort(v.begin(), v.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  }
  return out;
}

TEST(GpuIndexTest, GpuDecodingGivesTheCpuDecodersResults) {
  TempLibrary lib("gpu_index");
  for (const char* photo : {"human-samples.jpg", "sklearn-china.jpg", "plasma-Kite-2560x1600.jpg",
                            "matplotlib-grace_hopper.jpg", "skimage-coffee.png"}) {
    lib.AddPhoto(photo, photo);
  }
  for (const char* fixture : {"photo_progressive.jpg", "photo_cmyk.jpg", "exif_orientation_6.jpg"}) {
    std::filesystem::copy_file(testing::TestData(fixture), lib.photos() / fixture);
  }
  lib.AddBytes("not-a-photo.jpg", "these are not pixels\n");

  auto cuda = engine::PickDevice({"cuda", false});
  ASSERT_OK(cuda);
  cuda->device = engine::OpenDevice(cuda->device);  // as DetectorSet opens it
  auto detector = model::LoadDetector({testing::CenternetModelPath()}, cuda->device);
  ASSERT_OK(detector);
  std::map<std::string, std::map<std::string, std::vector<Detection>>> results;
  for (const char* mode : {"gpu", "cpu"}) {
    IndexOptions o;
    o.roots = {lib.photos().string()};
    o.scan.extensions = {"jpg", "png"};
    o.settings = "test";  // exact preprocessing (full decode) on both sides: target 0
    o.batch_size = 4;
    o.concurrency = 2;
    o.jpeg_decode = *ParseJpegDecode(mode);
    auto c = catalog::OpenCatalog(lib.catalog(std::string(mode) + ".db"));
    ASSERT_OK(c);
    auto summary = RunIndex(**detector, **c, o);
    ASSERT_OK(summary);
    EXPECT_EQ(summary->done, 8) << mode;
    EXPECT_EQ(summary->failed, 1) << mode;
    if (std::string(mode) == "gpu") {
      // The 4 photos and the upright-rotated fixture at least; PNG and CMYK never.
      EXPECT_GE(summary->gpu_decoded, 5);
      EXPECT_LE(summary->gpu_decoded, 6);
      EXPECT_FALSE(summary->gpu_decoder.empty());
    } else {
      EXPECT_EQ(summary->gpu_decoded, 0);
    }
    results[mode] = Results(**c);
  }
  ASSERT_EQ(results["gpu"].size(), results["cpu"].size());
  for (const auto& [file, want] : results["cpu"]) {
    const auto& got = results["gpu"][file];
    ASSERT_EQ(got.empty(), want.empty()) << file;
    if (want.empty()) continue;
    // Decoders differ by a few levels per pixel: the best detection stays, boxes and scores move little.
    EXPECT_EQ(got.front().label, want.front().label) << file;
    EXPECT_GE(IoU(got.front().box, want.front().box), 0.9f) << file;
    EXPECT_NEAR(got.front().score, want.front().score, 0.03f) << file;
  }
}

}  // namespace
}  // namespace mediadex::pipeline
