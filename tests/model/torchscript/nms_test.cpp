#include "model/nms.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

namespace mediadex::model {
namespace {

NmsOptions Options(float iou, float score_min, int max_output, bool per_class) {
  NmsOptions o;
  o.iou_threshold = iou;
  o.score_min = score_min;
  o.max_output = max_output;
  o.per_class = per_class;
  return o;
}

// IoU of (0,0,2,1) and (0,0,1,1) is exactly 0.5 in binary floating point.
const Box kWide{0, 0, 2, 1};
const Box kHalf{0, 0, 1, 1};

TEST(NmsTest, EmptyInput) {
  EXPECT_TRUE(NonMaxSuppression({}, {}, {}, NmsOptions{}).empty());
}

TEST(NmsTest, ClassAgnosticSuppressesAtExactlyTheThresholdLikeTfjs) {
  // TF.js's kernel ignores a candidate when iou >= iouThreshold.
  EXPECT_EQ(NonMaxSuppression({kWide, kHalf}, {0.9f, 0.8f}, {}, Options(0.5f, 0.2f, 10, false)),
            (std::vector<int>{0}));
  // Just above the overlap, the second box survives.
  EXPECT_EQ(NonMaxSuppression({kWide, kHalf}, {0.9f, 0.8f}, {}, Options(0.5001f, 0.2f, 10, false)),
            (std::vector<int>{0, 1}));
}

TEST(NmsTest, PerClassKeepsAtExactlyTheThresholdLikeTorchvision) {
  // torchvision.ops.nms (Ultralytics) drops a box only when iou > threshold.
  EXPECT_EQ(NonMaxSuppression({kWide, kHalf}, {0.9f, 0.8f}, {3, 3}, Options(0.5f, 0.2f, 10, true)),
            (std::vector<int>{0, 1}));
  EXPECT_EQ(NonMaxSuppression({kWide, kHalf}, {0.9f, 0.8f}, {3, 3}, Options(0.4999f, 0.2f, 10, true)),
            (std::vector<int>{0}));
}

TEST(NmsTest, ScoreMustExceedScoreMin) {
  const std::vector<Box> boxes = {{0, 0, 1, 1}, {10, 10, 11, 11}, {20, 20, 21, 21}};
  // 0.2f == score_min is not a candidate (TF.js keeps scores > scoreThreshold).
  EXPECT_EQ(NonMaxSuppression(boxes, {0.2f, 0.21f, 0.19f}, {}, Options(0.4f, 0.2f, 10, false)),
            (std::vector<int>{1}));
  EXPECT_EQ(NonMaxSuppression(boxes, {0.2f, 0.21f, 0.19f}, {}, Options(0.4f, 0.0f, 10, false)),
            (std::vector<int>{1, 0, 2}));
}

TEST(NmsTest, NanScoresAreNeverKept) {
  const std::vector<Box> boxes = {{0, 0, 1, 1}, {10, 10, 11, 11}};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(NonMaxSuppression(boxes, {nan, 0.5f}, {}, Options(0.4f, -1.0f, 10, false)),
            (std::vector<int>{1}));
}

TEST(NmsTest, MaxOutputKeepsTheBestAndZeroMeansNoLimit) {
  std::vector<Box> boxes;
  for (int i = 0; i < 5; ++i) boxes.push_back({10.0f * i, 0, 10.0f * i + 5, 5});
  const std::vector<float> scores = {0.3f, 0.9f, 0.5f, 0.7f, 0.4f};
  EXPECT_EQ(NonMaxSuppression(boxes, scores, {}, Options(0.4f, 0.2f, 3, false)),
            (std::vector<int>{1, 3, 2}));
  EXPECT_EQ(NonMaxSuppression(boxes, scores, {}, Options(0.4f, 0.2f, 0, false)),
            (std::vector<int>{1, 3, 2, 4, 0}));
  EXPECT_EQ(NonMaxSuppression(boxes, scores, {}, Options(0.4f, 0.2f, -1, false)).size(), 5u);
}

TEST(NmsTest, MaxOutputCountsKeptBoxesNotCandidates) {
  // The runner-up is suppressed, so the third box still gets the second slot.
  const std::vector<Box> boxes = {{0, 0, 10, 10}, {0, 0, 10, 9}, {50, 50, 60, 60}};
  EXPECT_EQ(NonMaxSuppression(boxes, {0.9f, 0.8f, 0.7f}, {}, Options(0.4f, 0.2f, 2, false)),
            (std::vector<int>{0, 2}));
}

TEST(NmsTest, TiesGoToTheLowerIndex) {
  const std::vector<Box> disjoint = {{0, 0, 1, 1}, {5, 5, 6, 6}, {9, 9, 10, 10}};
  EXPECT_EQ(NonMaxSuppression(disjoint, {0.5f, 0.5f, 0.5f}, {}, Options(0.4f, 0.2f, 10, false)),
            (std::vector<int>{0, 1, 2}));
  const std::vector<Box> same = {{0, 0, 10, 10}, {0, 0, 10, 10}, {0, 0, 10, 10}};
  EXPECT_EQ(NonMaxSuppression(same, {0.5f, 0.6f, 0.6f}, {}, Options(0.4f, 0.2f, 10, false)),
            (std::vector<int>{1}));
}

TEST(NmsTest, PerClassOnlySuppressesTheSameClass) {
  const std::vector<Box> boxes = {{0, 0, 10, 10}, {1, 0, 10, 10}, {0, 1, 10, 10}};
  const std::vector<float> scores = {0.9f, 0.8f, 0.7f};
  const std::vector<int> classes = {2, 5, 2};
  EXPECT_EQ(NonMaxSuppression(boxes, scores, classes, Options(0.4f, 0.2f, 10, true)),
            (std::vector<int>{0, 1}));
  EXPECT_EQ(NonMaxSuppression(boxes, scores, classes, Options(0.4f, 0.2f, 10, false)),
            (std::vector<int>{0}));
}

TEST(NmsTest, SuppressionIsNotTransitive) {
  // B overlaps A and C, A and C barely touch: A suppresses B, and C survives because B is gone.
  const std::vector<Box> boxes = {{0, 0, 10, 10}, {4, 0, 14, 10}, {8, 0, 18, 10}};
  EXPECT_EQ(NonMaxSuppression(boxes, {0.9f, 0.8f, 0.7f}, {}, Options(0.4f, 0.2f, 10, false)),
            (std::vector<int>{0, 2}));
}

TEST(NmsTest, DegenerateBoxesNeitherSuppressNorAreSuppressed) {
  const std::vector<Box> boxes = {{5, 5, 5, 8},     // zero width, inside the next box
                                  {0, 0, 10, 10},   // would be suppressed by anything real
                                  {3, 3, 3, 3}};    // a point
  EXPECT_EQ(NonMaxSuppression(boxes, {0.9f, 0.8f, 0.7f}, {}, Options(0.1f, 0.2f, 10, false)),
            (std::vector<int>{0, 1, 2}));
}

TEST(NmsTest, FlippedCornersAreTheSameBox) {
  const std::vector<Box> boxes = {{10, 10, 0, 0}, {0, 0, 10, 10}};
  EXPECT_EQ(NonMaxSuppression(boxes, {0.9f, 0.8f}, {}, Options(0.4f, 0.2f, 10, false)),
            (std::vector<int>{0}));
}

// The obvious O(n^2) algorithm, written independently: sort, then each kept box removes every
// later box it overlaps too much. Greedy NMS by definition.
std::vector<int> NaiveNms(const std::vector<Box>& boxes, const std::vector<float>& scores,
                          const std::vector<int>& classes, const NmsOptions& o) {
  std::vector<int> order;
  for (size_t i = 0; i < boxes.size(); ++i) {
    if (scores[i] > o.score_min) order.push_back(static_cast<int>(i));
  }
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
  const auto iou = [&](int a, int b) {
    const Box& p = boxes[a];
    const Box& q = boxes[b];
    const double pa = (double(p.x2) - p.x1) * (double(p.y2) - p.y1);
    const double qa = (double(q.x2) - q.x1) * (double(q.y2) - q.y1);
    if (pa <= 0 || qa <= 0) return 0.0;
    const double iw = std::max(0.0, std::min<double>(p.x2, q.x2) - std::max<double>(p.x1, q.x1));
    const double ih = std::max(0.0, std::min<double>(p.y2, q.y2) - std::max<double>(p.y1, q.y1));
    return iw * ih / (pa + qa - iw * ih);
  };
  std::vector<bool> removed(order.size(), false);
  std::vector<int> kept;
  for (size_t i = 0; i < order.size(); ++i) {
    if (removed[i]) continue;
    kept.push_back(order[i]);
    for (size_t j = i + 1; j < order.size(); ++j) {
      if (o.per_class && classes[order[i]] != classes[order[j]]) continue;
      const double v = iou(order[i], order[j]);
      if (o.per_class ? v > o.iou_threshold : v >= o.iou_threshold) removed[j] = true;
    }
  }
  if (o.max_output > 0 && kept.size() > static_cast<size_t>(o.max_output)) kept.resize(o.max_output);
  return kept;
}

TEST(NmsTest, MatchesNaiveReferenceOnThousandsOfRandomBoxes) {
  std::mt19937 rng(1234);
  std::uniform_real_distribution<float> centre(0, 1000), size(5, 120), unit(0, 1);
  std::uniform_int_distribution<int> cls(0, 4);
  for (int round = 0; round < 2; ++round) {
    const int n = 3000 + 1000 * round;
    std::vector<Box> boxes(n);
    std::vector<float> scores(n);
    std::vector<int> classes(n);
    for (int i = 0; i < n; ++i) {
      const float cx = centre(rng), cy = centre(rng), w = size(rng), h = size(rng);
      boxes[i] = {cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2};
      // Quantised scores make ties common, so the tie rule is exercised too.
      scores[i] = std::round(unit(rng) * 200) / 200;
      classes[i] = cls(rng);
    }
    for (bool per_class : {false, true}) {
      for (float iou : {0.3f, 0.5f, 0.7f}) {
        const std::vector<int> naive =
            NaiveNms(boxes, scores, classes, Options(iou, 0.1f, 0, per_class));
        ASSERT_GT(naive.size(), 300u);  // so the limits below really bind
        for (int max_output : {0, 10, 300}) {
          const NmsOptions o = Options(iou, 0.1f, max_output, per_class);
          // Greedy NMS with a limit keeps a prefix of the unlimited answer.
          std::vector<int> expected = naive;
          if (max_output > 0) expected.resize(max_output);
          ASSERT_EQ(NonMaxSuppression(boxes, scores, classes, o), expected)
              << "n=" << n << " per_class=" << per_class << " max_output=" << max_output
              << " iou=" << iou;
        }
      }
    }
  }
}

TEST(NmsTest, TenThousandBoxesAreFast) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> pos(0, 4000), size(5, 200), unit(0, 1);
  const int n = 10000;
  std::vector<Box> boxes(n);
  std::vector<float> scores(n);
  std::vector<int> classes(n);
  for (int i = 0; i < n; ++i) {
    const float x = pos(rng), y = pos(rng);
    boxes[i] = {x, y, x + size(rng), y + size(rng)};
    scores[i] = unit(rng);
    classes[i] = i % 80;
  }
  const auto start = std::chrono::steady_clock::now();
  const auto kept = NonMaxSuppression(boxes, scores, classes, Options(0.45f, 0.25f, 300, true));
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(kept.size(), 300u);
  // Generous bound for a shared 2-core machine: this takes a few ms.
  EXPECT_LT(ms, 200.0);
}

}  // namespace
}  // namespace mediadex::model
