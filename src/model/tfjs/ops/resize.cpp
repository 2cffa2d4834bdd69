#include "model/tfjs/ops/resize.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <stdexcept>
#include <vector>

#include "engine/gpu_runtime.h"

namespace mediadex::model::tfjs {
namespace {

// TF's CachedInterpolation for one axis: lower/upper source index and the lerp weight,
// computed in float exactly as resize_bilinear_op.cc does.
void AxisWeights(int64_t in, int64_t out, bool align_corners, bool half_pixel, std::vector<int64_t>* lo,
                 std::vector<int64_t>* hi, std::vector<float>* lerp) {
  const float scale = (align_corners && out > 1) ? static_cast<float>(in - 1) / static_cast<float>(out - 1)
                                                 : static_cast<float>(in) / static_cast<float>(out);
  lo->resize(out);
  hi->resize(out);
  lerp->resize(out);
  for (int64_t i = 0; i < out; ++i) {
    const float src = half_pixel ? (static_cast<float>(i) + 0.5f) * scale - 0.5f : static_cast<float>(i) * scale;
    const float f = std::floor(src);
    (*lo)[i] = std::min<int64_t>(std::max<int64_t>(static_cast<int64_t>(f), 0), in - 1);
    (*hi)[i] = std::min<int64_t>(static_cast<int64_t>(std::ceil(src)), in - 1);
    (*lerp)[i] = src - f;
  }
}

// The sampling tables of one resize on one device: made once, then reused. Building them per
// call would upload from the host in the middle of every forward pass, which stalls a GPU and
// cannot be captured into a CUDA Graph.
struct Tables {
  at::Tensor ylo, yhi, xlo, xhi, wy, wx;
};

Tables TablesFor(int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, bool align_corners,
                        bool half_pixel, const at::Device& dev, at::ScalarType type) {
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, bool, bool, std::string, int>;
  static std::mutex mu;
  static auto* cache = new std::map<Key, Tables>();  // never freed: device tensors must not die at exit
  const Key key{in_h, in_w, out_h, out_w, align_corners, half_pixel, dev.str(), static_cast<int>(type)};
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache->find(key);
  if (it != cache->end()) return it->second;
  std::vector<int64_t> ylo, yhi, xlo, xhi;
  std::vector<float> yl, xl;
  AxisWeights(in_h, out_h, align_corners, half_pixel, &ylo, &yhi, &yl);
  AxisWeights(in_w, out_w, align_corners, half_pixel, &xlo, &xhi, &xl);
  auto idx = [&](const std::vector<int64_t>& v) { return at::tensor(v, at::kLong).to(dev); };
  Tables t;
  t.ylo = idx(ylo);
  t.yhi = idx(yhi);
  t.xlo = idx(xlo);
  t.xhi = idx(xhi);
  t.wy = at::tensor(yl, at::kFloat).to(dev).to(type).reshape({1, out_h, 1, 1});
  t.wx = at::tensor(xl, at::kFloat).to(dev).to(type).reshape({1, 1, out_w, 1});
  if (cache->size() > 256) cache->clear();  // a model has a handful; arbitrary inputs are bounded
  return cache->emplace(key, std::move(t)).first->second;
}

}  // namespace

torch::Tensor ResizeBilinearNhwc(const torch::Tensor& x_in, int64_t out_h, int64_t out_w, bool align_corners,
                                 bool half_pixel_centers) {
  if (x_in.dim() != 4) throw std::invalid_argument("ResizeBilinear expects a 4-D NHWC tensor");
  if (out_h <= 0 || out_w <= 0) throw std::invalid_argument("ResizeBilinear output size must be positive");
  if (x_in.size(1) <= 0 || x_in.size(2) <= 0) throw std::invalid_argument("ResizeBilinear input is empty");
  const at::Tensor x = x_in.is_floating_point() ? x_in : x_in.to(at::kFloat);
  const Tables tables = TablesFor(x.size(1), x.size(2), out_h, out_w, align_corners, half_pixel_centers,
                                  x.device(), x.scalar_type());
  if (x.is_cuda() && x.scalar_type() == at::kFloat && x.is_contiguous() && engine::HasCudaKernels()) {
    // One kernel of ours, the same arithmetic in the same order as the ops below.
    return engine::ResizeBilinearNhwc(x, engine::ResizeTaps{tables.ylo, tables.yhi, tables.xlo, tables.xhi,
                                                            tables.wy.reshape({out_h}), tables.wx.reshape({out_w})});
  }
  const at::Tensor top = x.index_select(1, tables.ylo);
  const at::Tensor bottom = x.index_select(1, tables.yhi);
  const at::Tensor tl = top.index_select(2, tables.xlo), tr = top.index_select(2, tables.xhi);
  const at::Tensor bl = bottom.index_select(2, tables.xlo), br = bottom.index_select(2, tables.xhi);
  const at::Tensor &wx = tables.wx, &wy = tables.wy;
  // Same operation order as TF: top = tl + (tr - tl) * xl; out = top + (bottom - top) * yl.
  const at::Tensor t = tl + (tr - tl) * wx;
  const at::Tensor b = bl + (br - bl) * wx;
  return t + (b - t) * wy;
}

}  // namespace mediadex::model::tfjs
