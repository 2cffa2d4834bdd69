// NonMaxSuppressionV3/V4/V5 with TF's exact selection order (score descending, lower index
// first on ties, suppress when IoU > threshold; V5 soft-NMS with sigma).
#include <algorithm>
#include <cmath>
#include <queue>

#include "model/tfjs/op_registry.h"

namespace mediadex::model::tfjs {
namespace {

using Outs = std::vector<at::Tensor>;

float Iou(const float* a, const float* b) {
  const float ay0 = std::min(a[0], a[2]), ax0 = std::min(a[1], a[3]), ay1 = std::max(a[0], a[2]), ax1 = std::max(a[1], a[3]);
  const float by0 = std::min(b[0], b[2]), bx0 = std::min(b[1], b[3]), by1 = std::max(b[0], b[2]), bx1 = std::max(b[1], b[3]);
  const float area_a = (ay1 - ay0) * (ax1 - ax0), area_b = (by1 - by0) * (bx1 - bx0);
  if (area_a <= 0 || area_b <= 0) return 0.0f;
  const float iy0 = std::max(ay0, by0), ix0 = std::max(ax0, bx0), iy1 = std::min(ay1, by1), ix1 = std::min(ax1, bx1);
  const float inter = std::max(iy1 - iy0, 0.0f) * std::max(ix1 - ix0, 0.0f);
  return inter / (area_a + area_b - inter);
}

Outs Nms(OpCtx& c, int version) {
  NeedInputs(c, version == 5 ? 6 : 5);
  at::Tensor boxes = c.in[0].to(at::kCPU).to(at::kFloat).contiguous();
  at::Tensor scores = c.in[1].to(at::kCPU).to(at::kFloat).contiguous();
  if (boxes.dim() != 2 || boxes.size(1) != 4) OpFail("boxes must have shape [N, 4]");
  if (scores.dim() != 1 || scores.size(0) != boxes.size(0)) OpFail("scores must have shape [N]");
  const int64_t max_out = IntScalar(c.in[2]);
  if (max_out < 0) OpFail("max_output_size must be non-negative");
  const float iou_thr = static_cast<float>(DoubleScalar(c.in[3]));
  const float score_thr = static_cast<float>(DoubleScalar(c.in[4]));
  const float sigma = version == 5 ? static_cast<float>(DoubleScalar(c.in[5])) : 0.0f;
  if (iou_thr < 0 || iou_thr > 1) OpFail("iou_threshold must be in [0, 1]");
  const bool soft = sigma > 0;
  const float scale = soft ? -0.5f / sigma : 0.0f;
  const float* bx = boxes.data_ptr<float>();
  const float* sc = scores.data_ptr<float>();
  struct Cand {
    int64_t index;
    float score;
    int64_t begin;
  };
  auto cmp = [](const Cand& a, const Cand& b) {
    return (a.score == b.score && a.index > b.index) || a.score < b.score;
  };
  std::priority_queue<Cand, std::vector<Cand>, decltype(cmp)> queue(cmp);
  for (int64_t i = 0; i < scores.size(0); ++i) {
    if (sc[i] > score_thr) queue.push({i, sc[i], 0});
  }
  std::vector<int32_t> selected;
  std::vector<float> selected_scores;
  while (static_cast<int64_t>(selected.size()) < max_out && !queue.empty()) {
    Cand next = queue.top();
    queue.pop();
    const float original = next.score;
    bool hard = false;
    for (int64_t j = static_cast<int64_t>(selected.size()) - 1; j >= next.begin; --j) {
      const float iou = Iou(bx + 4 * next.index, bx + 4 * selected[j]);
      const float weight = (soft || iou <= iou_thr) ? std::exp(scale * iou * iou) : 0.0f;
      next.score *= weight;
      if (!soft && iou > iou_thr) {
        hard = true;
        break;
      }
      if (next.score <= score_thr) break;
    }
    next.begin = static_cast<int64_t>(selected.size());
    if (hard) continue;
    if (next.score == original) {
      selected.push_back(static_cast<int32_t>(next.index));
      selected_scores.push_back(next.score);
    } else if (next.score > score_thr) {
      queue.push(next);
    }
  }
  const int64_t valid = static_cast<int64_t>(selected.size());
  const bool pad = version >= 4 && c.node.AttrBool("pad_to_max_output_size", false);
  if (pad) {
    selected.resize(max_out, 0);
    selected_scores.resize(max_out, 0.0f);
  }
  const auto dev = c.in[0].device();
  at::Tensor idx = at::tensor(selected, at::kInt).to(dev);
  at::Tensor valid_t = at::scalar_tensor(valid, at::TensorOptions().dtype(at::kInt).device(dev));
  if (version == 3) return {idx};
  if (version == 4) return {idx, valid_t};
  return {idx, at::tensor(selected_scores, at::kFloat).to(dev), valid_t};
}

Outs OpNmsV3(OpCtx& c) { return Nms(c, 3); }
Outs OpNmsV4(OpCtx& c) { return Nms(c, 4); }
Outs OpNmsV5(OpCtx& c) { return Nms(c, 5); }

}  // namespace

void RegisterNmsOps(OpTable& t) {
  OpInfo info;
  info.rule = BatchRule::kNever;
  info.fn = OpNmsV3;
  t.Add("NonMaxSuppressionV3", info);
  info.fn = OpNmsV4;
  t.Add("NonMaxSuppressionV4", info);
  info.fn = OpNmsV5;
  t.Add("NonMaxSuppressionV5", info);
}

}  // namespace mediadex::model::tfjs
