// "Correct means TF.js agrees": the bundled CenterNet against the TF.js reference fixtures that
// tests/reference/generate.mjs wrote (@tensorflow/tfjs, CPU backend, human's pre/post-processing).
//
// Per photo listed in tests/reference/fixtures/index.json:
//  (a) Executor: tfjs::GraphModel fed the exact tensor TF.js executed (<photo>.input.f32) gives
//      the raw [100,6] output within 1e-3 relative to the largest |value|.
//  (b) Exact preprocessing (full-size decode, tf.image.resizeBilinear rules): same labels,
//      IoU >= 0.95, scores within 0.01.
//  (c) Fast path (DCT-scaled decode near 512x512): same labels, IoU >= 0.9, scores within 0.03.
// A missing fixture, photo or model fails with the reason; nothing is skipped.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/detection.h"
#include "core/image.h"
#include "engine/device.h"
#include "media/decoder.h"
#include "model/detector.h"
#include "model/tfjs/graph_model.h"
#include "testutil.h"

namespace mediadex {
namespace {

constexpr int kInputSize = 512;
constexpr int kRawRows = 100;
constexpr int kRawCols = 6;
constexpr const char* kInputNode = "tower_0/images";
constexpr const char* kOutputNode = "tower_0/detections";
constexpr const char* kMissingIndex = "missing_fixture_index";

std::string FixtureDir() { return testing::ReferenceDir() + "/fixtures"; }

// The photo names the reference covers, read when the tests are listed. An unreadable index
// becomes one test that fails and says why, instead of zero tests that pass.
std::vector<std::string> FixturePhotos() {
  std::ifstream in(FixtureDir() + "/index.json");
  if (!in) return {kMissingIndex};
  try {
    auto index = nlohmann::json::parse(in);
    auto photos = index.at("photos").get<std::vector<std::string>>();
    if (photos.empty()) return {kMissingIndex};
    return photos;
  } catch (const std::exception&) {
    return {kMissingIndex};
  }
}

struct Reference {
  int width = 0;
  int height = 0;
  std::vector<std::array<float, kRawCols>> raw;
  std::vector<Detection> detections;
  float min_score = 0.2f;
  int max_detections = 10;
};

// Loads <photo>.json; failures name the file.
Result<Reference> LoadReference(const std::string& photo) {
  const std::string path = FixtureDir() + "/" + photo + ".json";
  std::ifstream in(path);
  if (!in) return NotFound(path + ": reference fixture missing (run tests/reference/generate.mjs)");
  try {
    auto j = nlohmann::json::parse(in);
    Reference ref;
    ref.width = j.at("width").get<int>();
    ref.height = j.at("height").get<int>();
    for (const auto& row : j.at("raw")) {
      std::array<float, kRawCols> r{};
      if (row.size() != kRawCols) return Corrupt(path + ": raw row without 6 values");
      for (int c = 0; c < kRawCols; ++c) r[c] = row.at(c).get<float>();
      ref.raw.push_back(r);
    }
    if (ref.raw.size() != kRawRows) return Corrupt(path + ": raw is not 100 rows");
    for (const auto& d : j.at("detections")) {
      Detection det;
      det.label = d.at("label").get<std::string>();
      det.class_id = d.at("class").get<int>();
      det.score = d.at("score").get<float>();
      const auto& b = d.at("box");
      det.box = Box{b.at(0).get<float>(), b.at(1).get<float>(), b.at(2).get<float>(),
                    b.at(3).get<float>()};
      ref.detections.push_back(det);
    }
    ref.min_score = j.at("nms").at("min_score").get<float>();
    ref.max_detections = j.at("nms").at("max_detections").get<int>();
    return ref;
  } catch (const std::exception& e) {
    return Corrupt(path + ": " + e.what());
  }
}

// Reads <photo>.input.f32: little-endian float32 [1,512,512,3] NHWC.
Result<at::Tensor> LoadInputTensor(const std::string& photo) {
  const std::string path = FixtureDir() + "/" + photo + ".input.f32.gz";
  gzFile in = gzopen(path.c_str(), "rb");
  if (in == nullptr) return NotFound(path + ": input tensor fixture missing (run tests/reference/generate.mjs)");
  const size_t expected = size_t{kInputSize} * kInputSize * 3 * sizeof(float);
  at::Tensor t = at::empty({1, kInputSize, kInputSize, 3}, at::kFloat);
  const int got = gzread(in, t.data_ptr<float>(), static_cast<unsigned>(expected));  // LE hosts
  char extra;
  const bool trailing = gzread(in, &extra, 1) > 0;
  gzclose(in);
  if (got != static_cast<int>(expected) || trailing) {
    return Corrupt(path + ": " + std::to_string(got) + " bytes, expected " + std::to_string(expected));
  }
  return t;
}

Status CheckModelPresent() {
  const std::string path = testing::CenternetModelPath();
  if (!std::ifstream(path)) return NotFound(path + ": model missing (run scripts/fetch-model.sh)");
  return Status::Ok();
}

// One model of each kind for the whole binary: loading costs more than a forward pass.
Result<const model::tfjs::GraphModel*> SharedGraphModel() {
  static std::unique_ptr<model::tfjs::GraphModel> model;
  static Status status = [] {
    MDX_RETURN_IF_ERROR(CheckModelPresent());
    auto loaded = model::tfjs::GraphModel::Load(testing::CenternetModelPath(), c10::Device(c10::kCPU));
    if (!loaded.ok()) return loaded.status();
    model = std::move(loaded).value();
    return Status::Ok();
  }();
  if (!status.ok()) return status;
  return static_cast<const model::tfjs::GraphModel*>(model.get());
}

Result<const model::Detector*> SharedDetector() {
  static std::unique_ptr<model::Detector> detector;
  static Status status = [] {
    MDX_RETURN_IF_ERROR(CheckModelPresent());
    engine::SetCpuThreads(0);
    engine::DeviceRequest request;
    request.request = "cpu";
    auto device = engine::PickDevice(request);
    if (!device.ok()) return device.status();
    model::ModelSpec spec;
    spec.path = testing::CenternetModelPath();
    auto loaded = model::LoadDetector(spec, device->device);
    if (!loaded.ok()) return loaded.status();
    detector = std::move(loaded).value();
    return Status::Ok();
  }();
  if (!status.ok()) return status;
  return static_cast<const model::Detector*>(detector.get());
}

// TF.js leaves boxes that poke out of the photo as they are (e.g. y1 = -0.5); mediadex clamps
// them to the photo. Compare both clamped, so a small box is not failed for half a pixel outside.
Box ClampToImage(const Box& b, int width, int height) {
  auto clamp = [](float v, int hi) { return std::min(std::max(v, 0.0f), static_cast<float>(hi)); };
  return Box{clamp(b.x1, width), clamp(b.y1, height), clamp(b.x2, width), clamp(b.y2, height)};
}

std::string Describe(const Detection& d) {
  std::ostringstream s;
  s << d.label << " " << d.score << " [" << d.box.x1 << "," << d.box.y1 << "," << d.box.x2 << ","
    << d.box.y2 << "]";
  return s.str();
}

// Compares final detections with the reference: every reference detection must have one of
// ours with the same label, IoU >= min_iou (best-IoU match) and a score within score_tol, and
// the counts must agree. The only slack: a detection whose score is within score_tol of the
// min-score cut, or of the lowest kept score when the list is full (max_detections), may be
// present on one side only, since a score difference the tolerance allows can move it across.
void ExpectSameDetections(const Reference& ref, const std::vector<Detection>& ours,
                          float min_iou, float score_tol) {
  const bool ref_full = static_cast<int>(ref.detections.size()) >= ref.max_detections;
  const bool ours_full = static_cast<int>(ours.size()) >= ref.max_detections;
  float ref_lowest = 1.0f;
  for (const auto& d : ref.detections) ref_lowest = std::min(ref_lowest, d.score);
  float ours_lowest = 1.0f;
  for (const auto& d : ours) ours_lowest = std::min(ours_lowest, d.score);
  auto borderline = [&](float score, bool full, float lowest) {
    return score < ref.min_score + score_tol || (full && score < lowest + score_tol);
  };

  std::vector<bool> used(ours.size(), false);
  int unmatched_ref = 0;
  for (const auto& r : ref.detections) {
    int best = -1;
    float best_iou = -1.0f;
    for (size_t i = 0; i < ours.size(); ++i) {
      if (used[i] || ours[i].label != r.label) continue;
      const float iou = IoU(ClampToImage(r.box, ref.width, ref.height),
                            ClampToImage(ours[i].box, ref.width, ref.height));
      if (iou > best_iou) {
        best_iou = iou;
        best = static_cast<int>(i);
      }
    }
    if (best >= 0 && best_iou >= min_iou) {
      used[best] = true;
      EXPECT_NEAR(ours[best].score, r.score, score_tol)
          << "reference " << Describe(r) << " vs ours " << Describe(ours[best]);
      EXPECT_EQ(ours[best].class_id, r.class_id) << Describe(r);
      continue;
    }
    ++unmatched_ref;
    EXPECT_TRUE(borderline(r.score, ref_full, ref_lowest))
        << "reference " << Describe(r) << " has no match among ours (best same-label IoU "
        << best_iou << ", need " << min_iou << ")";
  }
  int unmatched_ours = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    if (used[i]) continue;
    ++unmatched_ours;
    EXPECT_TRUE(borderline(ours[i].score, ours_full, ours_lowest))
        << "ours " << Describe(ours[i]) << " is not in the reference";
  }
  if (unmatched_ref == 0 && unmatched_ours == 0) {
    EXPECT_EQ(ours.size(), ref.detections.size());
  }
}

class CenternetReferenceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_NE(GetParam(), kMissingIndex)
        << FixtureDir() << "/index.json: missing or unreadable (run tests/reference/generate.mjs)";
  }

  // Decodes the photo (full size, or at the detector's "fast" decode size) and detects.
  void DetectPhoto(bool fast, const Reference& ref, std::vector<Detection>* out) {
    auto detector = SharedDetector();
    ASSERT_OK(detector);
    const int target = fast ? (*detector)->info().decode_width : 0;
    const std::string path = testing::Photo(GetParam());
    ASSERT_TRUE(std::ifstream(path).good()) << path << ": photo missing (the reference photos are ../shared/testdata/photos)";
    media::DecodeOptions opts;
    opts.target_width = target;
    opts.target_height = target;
    auto image = media::DecodeFile(path, opts);
    ASSERT_OK(image);
    ASSERT_EQ(image->full_width, ref.width) << path;
    ASSERT_EQ(image->full_height, ref.height) << path;
    if (target == 0) {
      ASSERT_EQ(image->width, ref.width) << path << ": exact path must decode at full size";
      ASSERT_EQ(image->height, ref.height) << path;
    }
    std::vector<const RgbImage*> batch = {&image.value()};
    auto results = (*detector)->Detect(batch, model::DetectOptions{});
    ASSERT_OK(results);
    ASSERT_EQ(results->size(), 1u);
    *out = std::move(results->front());
  }
};

// (a) The executor on TF.js's own input tensor. Rows are compared in order, except that rows
// whose scores tie within the tolerance may come out permuted (TopK of near-equal scores), and
// the last rows may be replaced by a near-tied 101st candidate.
TEST_P(CenternetReferenceTest, ExecutorMatchesRawOutput) {
  auto ref = LoadReference(GetParam());
  ASSERT_OK(ref);
  auto input = LoadInputTensor(GetParam());
  ASSERT_OK(input);
  auto graph = SharedGraphModel();
  ASSERT_OK(graph);
  auto outputs = (*graph)->Execute({{kInputNode, *input}}, {kOutputNode});
  ASSERT_OK(outputs);
  ASSERT_EQ(outputs->size(), 1u);
  at::Tensor out = outputs->front().to(at::kCPU, at::kFloat).contiguous();
  ASSERT_EQ(out.sizes().vec(), (std::vector<int64_t>{1, kRawRows, kRawCols}));
  const float* o = out.data_ptr<float>();

  float max_abs = 0.0f;
  for (const auto& row : ref->raw) {
    for (float v : row) max_abs = std::max(max_abs, std::fabs(v));
  }
  const float tol = 1e-3f * max_abs;
  // Scores live in 0..1: hold them to 1e-3 of the largest score, not of the largest coordinate.
  float max_score = 0.0f;
  for (const auto& row : ref->raw) max_score = std::max(max_score, std::fabs(row[4]));
  const float score_tol = 1e-3f * std::max(max_score, 1e-3f);
  const float last_score = ref->raw.back()[4];

  auto row_matches = [&](const std::array<float, kRawCols>& r, int j, float* worst) {
    const float* q = o + j * kRawCols;
    if (q[5] != r[5] || std::fabs(q[4] - r[4]) > score_tol) return false;
    float w = 0.0f;
    for (int c = 0; c < 4; ++c) w = std::max(w, std::fabs(q[c] - r[c]));
    if (w > tol) return false;
    *worst = std::max(*worst, w);
    return true;
  };

  std::vector<bool> used(kRawRows, false);
  float worst = 0.0f;
  int permuted = 0;
  for (int i = 0; i < kRawRows; ++i) {
    const auto& r = ref->raw[i];
    if (!used[i] && row_matches(r, i, &worst)) {
      used[i] = true;
      continue;
    }
    int found = -1;
    for (int j = 0; j < kRawRows && found < 0; ++j) {
      if (!used[j] && std::fabs(o[j * kRawCols + 4] - r[4]) <= score_tol && row_matches(r, j, &worst)) {
        found = j;
      }
    }
    if (found >= 0) {
      used[found] = true;
      ++permuted;
      continue;
    }
    const float* q = o + i * kRawCols;
    EXPECT_LE(r[4], last_score + score_tol)
        << GetParam() << " row " << i << ": reference [" << r[0] << "," << r[1] << "," << r[2]
        << "," << r[3] << "," << r[4] << "," << r[5] << "] vs ours [" << q[0] << "," << q[1] << ","
        << q[2] << "," << q[3] << "," << q[4] << "," << q[5] << "] (tolerance " << tol
        << ", score " << score_tol << ")";
  }
  RecordProperty("max_box_abs_diff", std::to_string(worst));
  RecordProperty("permuted_rows", permuted);
}

// (b) Full-size decode, then the detector's tf.image.resizeBilinear-exact resize.
TEST_P(CenternetReferenceTest, ExactPreprocessMatchesDetections) {
  auto ref = LoadReference(GetParam());
  ASSERT_OK(ref);
  std::vector<Detection> ours;
  ASSERT_NO_FATAL_FAILURE(DetectPhoto(/*fast=*/false, *ref, &ours));
  ExpectSameDetections(*ref, ours, /*min_iou=*/0.95f, /*score_tol=*/0.01f);
}

// (c) The default fast path: JPEG DCT scaling to the smallest scale still >= 512x512.
TEST_P(CenternetReferenceTest, FastPathMatchesDetections) {
  auto ref = LoadReference(GetParam());
  ASSERT_OK(ref);
  std::vector<Detection> ours;
  ASSERT_NO_FATAL_FAILURE(DetectPhoto(/*fast=*/true, *ref, &ours));
  ExpectSameDetections(*ref, ours, /*min_iou=*/0.9f, /*score_tol=*/0.03f);
}

std::string PhotoTestName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Photos, CenternetReferenceTest, ::testing::ValuesIn(FixturePhotos()),
                         PhotoTestName);

}  // namespace
}  // namespace mediadex
