// Runs the tiny TorchScript detectors that make_tiny_yolo.py scripts at build time. Their
// boxes and probe pixels are listed there; the expectations below follow from them.
#include "model/torchscript/yolo_detector.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "model/detector.h"
#include "testutil.h"

namespace mediadex::model {
namespace {

std::string TinyModel(const std::string& name) { return std::string(TINY_YOLO_DIR) + "/" + name; }

engine::DeviceInfo Cpu() {
  engine::DeviceInfo cpu;
  cpu.name = "cpu";
  return cpu;
}

RgbImage Solid(int width, int height, uint8_t r, uint8_t g, uint8_t b, int full_width = 0,
               int full_height = 0) {
  RgbImage image;
  image.width = width;
  image.height = height;
  image.full_width = full_width ? full_width : width;
  image.full_height = full_height ? full_height : height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < image.pixels.size(); i += 3) {
    image.pixels[i] = r;
    image.pixels[i + 1] = g;
    image.pixels[i + 2] = b;
  }
  return image;
}

DetectOptions AllOf() {
  DetectOptions o;
  o.score_min = 0.2f;
  o.nms_iou = 0.45f;
  o.max_detections = 100;
  return o;
}

std::unique_ptr<Detector> Load(const std::string& name) {
  auto detector = LoadYoloDetector(TinyModel(name), Cpu());
  EXPECT_TRUE(detector.ok()) << detector.status().ToString();
  return detector.ok() ? std::move(detector.value()) : nullptr;
}

std::vector<Detection> DetectOne(const Detector& detector, const RgbImage& image,
                                 const DetectOptions& options = AllOf()) {
  auto result = detector.Detect({&image}, options);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok() || result->size() != 1) return {};
  return result->at(0);
}

std::map<int, Detection> ByClass(const std::vector<Detection>& detections) {
  std::map<int, Detection> by_class;
  for (const auto& d : detections) {
    EXPECT_EQ(by_class.count(d.class_id), 0u) << "two detections of class " << d.class_id;
    by_class[d.class_id] = d;
  }
  return by_class;
}

void ExpectBox(const Box& box, float x1, float y1, float x2, float y2) {
  EXPECT_NEAR(box.x1, x1, 1e-3);
  EXPECT_NEAR(box.y1, y1, 1e-3);
  EXPECT_NEAR(box.x2, x2, 1e-3);
  EXPECT_NEAR(box.y2, y2, 1e-3);
}

void ExpectSortedAndClipped(const std::vector<Detection>& detections, int full_w, int full_h) {
  for (size_t i = 0; i < detections.size(); ++i) {
    const Box& b = detections[i].box;
    EXPECT_GE(b.x1, 0);
    EXPECT_GE(b.y1, 0);
    EXPECT_LE(b.x2, full_w);
    EXPECT_LE(b.y2, full_h);
    EXPECT_LE(b.x1, b.x2);
    EXPECT_LE(b.y1, b.y2);
    if (i > 0) {
      EXPECT_GE(detections[i - 1].score, detections[i].score);
    }
  }
}

constexpr float kPad = 114.0f / 255.0f;

// The 640 models (v8 and v5 layouts) on a solid picture of colour (r, g, b): box A of class 5
// and its class-6 twin survive, the duplicate and the low box do not, and the seven probes
// report the pixel they read, or the 114 gray where that pixel is padding.
struct Expected {
  Box a;
  bool p0_pad, p3_pad, p5_pad;  // which probes read padding for this geometry
};

void ExpectTiny640(const std::vector<Detection>& detections, const RgbImage& image, uint8_t r,
                   uint8_t b, const Expected& e) {
  ExpectSortedAndClipped(detections, image.full_width, image.full_height);
  auto by_class = ByClass(detections);
  ASSERT_EQ(detections.size(), 9u);
  ASSERT_EQ(by_class.count(5), 1u);
  ASSERT_EQ(by_class.count(6), 1u);
  EXPECT_EQ(by_class.count(7), 0u) << "the 0.1 box must be dropped";
  EXPECT_EQ(detections[0].class_id, 5);
  EXPECT_EQ(by_class[5].label, "bus");  // COCO names when the export has no metadata
  EXPECT_EQ(by_class[6].label, "train");
  EXPECT_NEAR(by_class[5].score, 0.9f, 1e-6);
  EXPECT_NEAR(by_class[6].score, 0.7f, 1e-6);
  ExpectBox(by_class[5].box, e.a.x1, e.a.y1, e.a.x2, e.a.y2);
  ExpectBox(by_class[6].box, e.a.x1, e.a.y1, e.a.x2, e.a.y2);
  const float red = r / 255.0f, blue = b / 255.0f;
  EXPECT_NEAR(by_class[10].score, e.p0_pad ? kPad : red, 1e-5) << "P0 corner";
  EXPECT_NEAR(by_class[11].score, red, 1e-5) << "P1 red at the centre";
  EXPECT_NEAR(by_class[12].score, blue, 1e-5) << "P2 blue at the centre";
  EXPECT_NEAR(by_class[13].score, e.p3_pad ? kPad : red, 1e-5) << "P3 row 139";
  EXPECT_NEAR(by_class[14].score, red, 1e-5) << "P4 row 140";
  EXPECT_NEAR(by_class[15].score, e.p5_pad ? kPad : red, 1e-5) << "P5 column 159";
  EXPECT_NEAR(by_class[16].score, red, 1e-5) << "P6 column 160";
}

// 1280x720: scale 0.5, 640x360 centred with 140 rows of padding above.
// A = (270, 295, 370, 345) in input pixels -> ((270 - 0) / 0.5, (295 - 140) / 0.5, ...).
const Expected kWide{{540, 310, 740, 410}, true, true, false};
// 300x600: scale 640/600, 320x640 with 160 columns of padding on the left.
const Expected kTall{{110 * 0.9375f, 295 * 0.9375f, 210 * 0.9375f, 345 * 0.9375f}, true, false,
                     true};

TEST(LetterboxTest, MatchesUltralytics) {
  Letterbox lb = ComputeLetterbox(1280, 720, 640, 640);
  EXPECT_FLOAT_EQ(lb.scale, 0.5f);
  EXPECT_EQ(lb.width, 640);
  EXPECT_EQ(lb.height, 360);
  EXPECT_EQ(lb.left, 0);
  EXPECT_EQ(lb.top, 140);
  lb = ComputeLetterbox(300, 600, 640, 640);
  EXPECT_EQ(lb.width, 320);
  EXPECT_EQ(lb.height, 640);
  EXPECT_EQ(lb.left, 160);
  EXPECT_EQ(lb.top, 0);
  // Odd padding: Ultralytics puts round(0.5 - 0.1) = 0 rows on top and 1 below.
  lb = ComputeLetterbox(1000, 999, 640, 640);
  EXPECT_EQ(lb.width, 640);
  EXPECT_EQ(lb.height, 639);
  EXPECT_EQ(lb.top, 0);
  // Small photos are scaled up.
  lb = ComputeLetterbox(100, 50, 640, 640);
  EXPECT_FLOAT_EQ(lb.scale, 6.4f);
  EXPECT_EQ(lb.height, 320);
  EXPECT_EQ(lb.top, 160);
}

TEST(YoloDetectorTest, V8LayoutMapsBoxesBackThroughTheLetterbox) {
  auto detector = Load("v8.torchscript");
  ASSERT_NE(detector, nullptr);
  const RgbImage wide = Solid(1280, 720, 200, 60, 100);
  ExpectTiny640(DetectOne(*detector, wide), wide, 200, 100, kWide);
  const RgbImage tall = Solid(300, 600, 90, 10, 200);
  ExpectTiny640(DetectOne(*detector, tall), tall, 90, 200, kTall);
}

TEST(YoloDetectorTest, V5LayoutMultipliesObjectnessAndTakesTheTuplesFirstTensor) {
  auto detector = Load("v5.torchscript");
  ASSERT_NE(detector, nullptr);
  const RgbImage wide = Solid(1280, 720, 200, 60, 100);
  ExpectTiny640(DetectOne(*detector, wide), wide, 200, 100, kWide);
  const RgbImage tall = Solid(300, 600, 90, 10, 200);
  ExpectTiny640(DetectOne(*detector, tall), tall, 90, 200, kTall);
}

TEST(YoloDetectorTest, DctShrunkBufferMapsToTheFullSizePhoto) {
  auto detector = Load("v8.torchscript");
  ASSERT_NE(detector, nullptr);
  // A 1280x720 photo decoded at 1/8 scale: boxes still come back in 1280x720 pixels.
  const RgbImage shrunk = Solid(160, 90, 200, 60, 100, 1280, 720);
  ExpectTiny640(DetectOne(*detector, shrunk), shrunk, 200, 100, kWide);
}

TEST(YoloDetectorTest, OneBatchGivesEachImageItsOwnGeometry) {
  auto detector = Load("v8.torchscript");
  ASSERT_NE(detector, nullptr);
  const RgbImage wide = Solid(1280, 720, 200, 60, 100);
  const RgbImage tall = Solid(300, 600, 90, 10, 200);
  const RgbImage shrunk = Solid(160, 90, 30, 60, 220, 1280, 720);
  auto results = detector->Detect({&wide, &tall, &shrunk}, AllOf());
  ASSERT_OK(results);
  ASSERT_EQ(results->size(), 3u);
  ExpectTiny640(results->at(0), wide, 200, 100, kWide);
  ExpectTiny640(results->at(1), tall, 90, 200, kTall);
  // Red 30/255 is below score_min: the probes reading red vanish, padding and blue remain.
  auto by_class = ByClass(results->at(2));
  EXPECT_EQ(by_class.count(11), 0u);
  EXPECT_NEAR(by_class[12].score, 220 / 255.0f, 1e-5);
  EXPECT_NEAR(by_class[10].score, kPad, 1e-5);
  ExpectBox(by_class[5].box, 540, 310, 740, 410);
}

TEST(YoloDetectorTest, ResizeIsBilinearWithHalfPixelCentres) {
  auto detector = Load("v8.torchscript");
  ASSERT_NE(detector, nullptr);
  // Columns alternate red 0 / 200. Halving 1280 -> 640 with half-pixel centres (cv2's
  // INTER_LINEAR, as Ultralytics resizes) samples between each pair: 100 everywhere.
  // Nearest-neighbour would read 0 and the probe would vanish.
  RgbImage stripes = Solid(1280, 720, 0, 60, 100);
  for (int y = 0; y < 720; ++y) {
    for (int x = 1; x < 1280; x += 2) stripes.pixels[(static_cast<size_t>(y) * 1280 + x) * 3] = 200;
  }
  auto by_class = ByClass(DetectOne(*detector, stripes));
  ASSERT_EQ(by_class.count(11), 1u);
  EXPECT_NEAR(by_class[11].score, 100 / 255.0f, 1e-5);
}

TEST(YoloDetectorTest, OptionsAreHonoured) {
  auto detector = Load("v8.torchscript");
  ASSERT_NE(detector, nullptr);
  const RgbImage wide = Solid(1280, 720, 200, 60, 100);
  DetectOptions o = AllOf();
  o.max_detections = 1;
  auto one = DetectOne(*detector, wide, o);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].class_id, 5);
  o = AllOf();
  o.score_min = 0.85f;
  EXPECT_EQ(DetectOne(*detector, wide, o).size(), 1u);
  o = AllOf();
  o.score_min = 0.05f;  // now the 0.1 box counts
  EXPECT_EQ(ByClass(DetectOne(*detector, wide, o)).count(7), 1u);
  // A and its duplicate overlap by IoU 0.924: a threshold above that keeps both.
  o = AllOf();
  o.nms_iou = 0.95f;
  auto both = DetectOne(*detector, wide, o);
  int class5 = 0;
  for (const auto& d : both) class5 += d.class_id == 5;
  EXPECT_EQ(class5, 2);
}

TEST(YoloDetectorTest, MetadataGivesInputSizeAndNames) {
  auto detector = Load("v8_meta.torchscript");
  ASSERT_NE(detector, nullptr);
  const ModelInfo& info = detector->info();
  EXPECT_EQ(info.name, "v8_meta");
  EXPECT_EQ(info.format, "torchscript-yolo");
  EXPECT_EQ(info.version.size(), 16u);
  EXPECT_EQ(info.input_width, 320);
  EXPECT_EQ(info.input_height, 320);
  EXPECT_EQ(info.labels, (std::vector<std::string>{"cat", "dog", "bird"}));
  // 1280x720 into 320: scale 0.25, 70 rows of padding. The network rejects any other size.
  const RgbImage wide = Solid(1280, 720, 200, 60, 100);
  const auto detections = DetectOne(*detector, wide);
  ASSERT_EQ(detections.size(), 3u);
  EXPECT_EQ(detections[0].label, "dog");
  EXPECT_NEAR(detections[0].score, 0.9f, 1e-6);
  ExpectBox(detections[0].box, 540, 310, 740, 410);
  EXPECT_EQ(detections[1].label, "cat");
  EXPECT_NEAR(detections[1].score, kPad, 1e-5);
  EXPECT_EQ(detections[2].label, "bird");
  EXPECT_NEAR(detections[2].score, 60 / 255.0f, 1e-5);  // green, so RGB order holds
}

TEST(YoloDetectorTest, VersionIsAStableContentHash) {
  auto a = Load("v8.torchscript");
  auto b = Load("v8.torchscript");
  auto c = Load("v5.torchscript");
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->info().version, b->info().version);
  EXPECT_NE(a->info().version, c->info().version);
  EXPECT_EQ(a->info().labels, CocoLabels());
  EXPECT_EQ(a->info().input_width, 640);
}

TEST(YoloDetectorTest, ConcurrentDetectCallsAgree) {
  auto detector = Load("v8.torchscript");
  ASSERT_NE(detector, nullptr);
  const RgbImage wide = Solid(1280, 720, 200, 60, 100);
  const RgbImage tall = Solid(300, 600, 90, 10, 200);
  std::vector<Detection> r1, r2;
  std::thread t1([&] { for (int i = 0; i < 3; ++i) r1 = DetectOne(*detector, wide); });
  std::thread t2([&] { for (int i = 0; i < 3; ++i) r2 = DetectOne(*detector, tall); });
  t1.join();
  t2.join();
  ExpectTiny640(r1, wide, 200, 100, kWide);
  ExpectTiny640(r2, tall, 90, 200, kTall);
}

TEST(YoloDetectorTest, EmptyBatchAndBadImages) {
  auto detector = Load("v8.torchscript");
  ASSERT_NE(detector, nullptr);
  auto empty = detector->Detect({}, AllOf());
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
  RgbImage broken = Solid(10, 10, 1, 2, 3);
  broken.pixels.resize(10);
  auto result = detector->Detect({&broken}, AllOf());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
}

void ExpectLoadError(const std::string& path, StatusCode code, const std::string& needle) {
  auto detector = LoadYoloDetector(path, Cpu());
  ASSERT_FALSE(detector.ok()) << path;
  const std::string message = detector.status().message();
  EXPECT_EQ(detector.status().code(), code) << message;
  EXPECT_NE(message.find(path), std::string::npos) << "must name the file: " << message;
  EXPECT_NE(message.find(needle), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
}

TEST(YoloDetectorErrorsTest, MissingFile) {
  ExpectLoadError(TinyModel("nope.torchscript"), StatusCode::kNotFound, "not found");
}

TEST(YoloDetectorErrorsTest, NotTorchScript) {
  const std::string path = std::string(MEDIADEX_BINARY_DIR) + "/not_a_model.torchscript";
  std::ofstream(path) << "this is not a zip archive\n";
  ExpectLoadError(path, StatusCode::kCorrupt, "not a TorchScript file");
}

TEST(YoloDetectorErrorsTest, WrongOutputRank) {
  ExpectLoadError(TinyModel("bad_rank.torchscript"), StatusCode::kUnsupported, "[1, 84]");
}

TEST(YoloDetectorErrorsTest, SegmentationTaskIsRefused) {
  ExpectLoadError(TinyModel("segment_meta.torchscript"), StatusCode::kUnsupported, "segment");
}

TEST(YoloDetectorErrorsTest, MalformedMetadata) {
  ExpectLoadError(TinyModel("bad_meta.torchscript"), StatusCode::kCorrupt, "config.txt");
}

TEST(YoloDetectorErrorsTest, NetworkRejectsTheMetadataInputSize) {
  ExpectLoadError(TinyModel("wrong_imgsz.torchscript"), StatusCode::kDeviceError,
                  "[1, 3, 320, 320]");
}

}  // namespace
}  // namespace mediadex::model
