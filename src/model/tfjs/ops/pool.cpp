// MaxPool / AvgPool on NHWC through the channels_last NCHW view, TF padding (SAME pads are
// ignored by the max and excluded from the average's count).
#include <limits>

#include "model/tfjs/op_registry.h"
#include "model/tfjs/ops/conv_util.h"

namespace mediadex::model::tfjs {
namespace {

using Outs = std::vector<at::Tensor>;

struct PoolState : OpState {
  Window2d window;
  int64_t kh = 1, kw = 1;
};

std::unique_ptr<OpState> PreparePool(const NodeDef& node, const std::vector<const at::Tensor*>&) {
  auto s = std::make_unique<PoolState>();
  s->window = ReadWindow(node, "strides");
  std::vector<int64_t> k = node.AttrInts("ksize");
  if (k.size() != 4 || k[0] != 1 || k[3] != 1) Fail(StatusCode::kUnsupported, "ksize must be [1, kh, kw, 1]");
  if (k[1] < 1 || k[2] < 1 || k[1] > 4096 || k[2] > 4096) Fail(StatusCode::kCorrupt, "ksize out of range");
  s->kh = k[1];
  s->kw = k[2];
  return s;
}

Outs Pool(OpCtx& c, bool is_max) {
  const auto& s = static_cast<const PoolState&>(*c.state);
  NeedInputs(c, 1);
  at::Tensor x = c.in[0];
  if (x.dim() != 4) OpFail("input must be 4-D NHWC, got " + ShapeString(x.sizes()));
  if (!x.is_floating_point()) x = x.to(at::kFloat);
  x = x.contiguous();
  Pads p = ComputePads(s.window, x.size(1), x.size(2), s.kh, s.kw);
  const bool symmetric = p.top == p.bottom && p.left == p.right && 2 * p.top <= s.kh && 2 * p.left <= s.kw;
  int64_t ph = 0, pw = 0;
  if (is_max) {
    if (symmetric) {
      ph = p.top;
      pw = p.left;
    } else {
      x = at::constant_pad_nd(x, {0, 0, p.left, p.right, p.top, p.bottom},
                              -std::numeric_limits<double>::infinity());
    }
    if (x.size(1) + 2 * ph < s.kh || x.size(2) + 2 * pw < s.kw) OpFail("input is smaller than the window");
    at::Tensor y = at::max_pool2d(x.permute({0, 3, 1, 2}), {s.kh, s.kw}, {s.window.stride_h, s.window.stride_w},
                                  {ph, pw});
    return {y.permute({0, 2, 3, 1}).contiguous()};
  }
  // Average: sum over the window divided by the number of real (unpadded) pixels in it.
  const bool padded = p.top || p.bottom || p.left || p.right;
  if (padded) {
    if (symmetric) {
      ph = p.top;
      pw = p.left;
    } else {
      x = at::constant_pad_nd(x, {0, 0, p.left, p.right, p.top, p.bottom}, 0);
    }
  }
  if (x.size(1) + 2 * ph < s.kh || x.size(2) + 2 * pw < s.kw) OpFail("input is smaller than the window");
  at::Tensor y = at::avg_pool2d(x.permute({0, 3, 1, 2}), {s.kh, s.kw}, {s.window.stride_h, s.window.stride_w},
                                {ph, pw}, false, /*count_include_pad=*/!padded || !symmetric);
  if (padded && !symmetric) {
    at::Tensor ones = at::ones({1, 1, c.in[0].size(1), c.in[0].size(2)}, x.options());
    ones = at::constant_pad_nd(ones, {p.left, p.right, p.top, p.bottom}, 0);
    at::Tensor frac = at::avg_pool2d(ones, {s.kh, s.kw}, {s.window.stride_h, s.window.stride_w});
    y = y / frac;
  }
  return {y.permute({0, 2, 3, 1}).contiguous()};
}

Outs OpMaxPool(OpCtx& c) { return Pool(c, true); }
Outs OpAvgPool(OpCtx& c) { return Pool(c, false); }

}  // namespace

void RegisterPoolOps(OpTable& t) {
  OpInfo info;
  info.rule = BatchRule::kFirstInput;
  info.prepare = PreparePool;
  info.fn = OpMaxPool;
  t.Add("MaxPool", info);
  info.fn = OpAvgPool;
  t.Add("AvgPool", info);
}

}  // namespace mediadex::model::tfjs
