// Image ops: ResizeBilinear (TF's exact arithmetic, see resize.h) and ResizeNearestNeighbor.
#include <cmath>

#include "model/tfjs/op_registry.h"
#include "model/tfjs/ops/resize.h"

namespace mediadex::model::tfjs {
namespace {

using Outs = std::vector<at::Tensor>;

std::pair<int64_t, int64_t> OutSize(const OpCtx& c) {
  NeedInputs(c, 2);
  if (c.in[0].dim() != 4) OpFail("images must be 4-D NHWC, got " + ShapeString(c.in[0].sizes()));
  std::vector<int64_t> size = IntValues(c.in[1]);
  if (size.size() != 2 || size[0] <= 0 || size[1] <= 0 || size[0] > 65536 || size[1] > 65536) {
    OpFail("size must hold two positive values");
  }
  if (c.in[0].size(1) == 0 || c.in[0].size(2) == 0) OpFail("images are empty");
  return {size[0], size[1]};
}

Outs OpResizeBilinear(OpCtx& c) {
  auto [h, w] = OutSize(c);
  return {ResizeBilinearNhwc(c.in[0], h, w, c.node.AttrBool("align_corners", false),
                             c.node.AttrBool("half_pixel_centers", false))};
}

Outs OpResizeNearest(OpCtx& c) {
  auto [out_h, out_w] = OutSize(c);
  const bool align = c.node.AttrBool("align_corners", false);
  const bool half = c.node.AttrBool("half_pixel_centers", false);
  const at::Tensor& x = c.in[0];
  auto axis = [&](int64_t in, int64_t out) {
    const float scale = (align && out > 1) ? static_cast<float>(in - 1) / (out - 1) : static_cast<float>(in) / out;
    std::vector<int64_t> idx(out);
    for (int64_t i = 0; i < out; ++i) {
      const float src = half ? (static_cast<float>(i) + 0.5f) * scale : static_cast<float>(i) * scale;
      int64_t j = align ? static_cast<int64_t>(std::round(src)) : static_cast<int64_t>(std::floor(src));
      idx[i] = std::max<int64_t>(0, std::min<int64_t>(j, in - 1));
    }
    return at::tensor(idx, at::kLong).to(x.device());
  };
  return {x.index_select(1, axis(x.size(1), out_h)).index_select(2, axis(x.size(2), out_w))};
}

}  // namespace

void RegisterImageOps(OpTable& t) {
  OpInfo info;
  info.rule = BatchRule::kFirstInput;
  info.fn = OpResizeBilinear;
  t.Add("ResizeBilinear", info);
  info.fn = OpResizeNearest;
  t.Add("ResizeNearestNeighbor", info);
}

}  // namespace mediadex::model::tfjs
