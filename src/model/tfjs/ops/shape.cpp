// Shape and indexing ops: Reshape, Squeeze, ExpandDims, Concat, Pack/Unpack, Split, Slice,
// StridedSlice (all masks, negative strides), GatherV2, Transpose, Pad, Tile, Shape, Fill,
// Range, Where, Identity.
#include <algorithm>
#include <cmath>
#include <limits>

#include "model/tfjs/op_registry.h"

namespace mediadex::model::tfjs {
namespace {

using Outs = std::vector<at::Tensor>;
constexpr int64_t kMaxElements = int64_t{1} << 31;  // refuse absurd allocations from bad graphs

void CheckSize(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) OpFail("negative dimension in " + ShapeString(shape));
    if (d != 0 && n > kMaxElements / d) OpFail("shape " + ShapeString(shape) + " is too large");
    n *= d;
  }
}

bool OthersStatic(const std::vector<char>& batched) {
  for (size_t i = 1; i < batched.size(); ++i) {
    if (batched[i]) return false;
  }
  return !batched.empty() && batched[0];
}

Outs OpIdentity(OpCtx& c) {
  NeedInputs(c, 1);
  return {c.in[0]};
}

Outs OpIdentityN(OpCtx& c) { return c.in; }

// Resolves a TF reshape target (one -1 allowed) for `numel` elements.
std::vector<int64_t> ResolveShape(std::vector<int64_t> shape, int64_t numel) {
  int64_t known = 1, unknown = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (unknown >= 0) OpFail("only one -1 allowed in shape " + ShapeString(shape));
      unknown = static_cast<int64_t>(i);
    } else if (shape[i] < 0) {
      OpFail("negative dimension in shape " + ShapeString(shape));
    } else {
      if (shape[i] != 0 && known > kMaxElements / shape[i]) OpFail("shape too large");
      known *= shape[i];
    }
  }
  if (unknown >= 0) {
    if (known == 0 || numel % known != 0) OpFail("cannot reshape " + std::to_string(numel) + " elements to " + ShapeString(shape));
    shape[unknown] = numel / known;
  } else if (known != numel) {
    OpFail("cannot reshape " + std::to_string(numel) + " elements to " + ShapeString(shape));
  }
  return shape;
}

Outs OpReshape(OpCtx& c) {
  NeedInputs(c, 2);
  const at::Tensor& x = c.in[0];
  std::vector<int64_t> shape = IntValues(c.in[1]);
  if (c.batch > 1) {  // the graph baked batch 1 into the shape: resolve per image, then scale
    shape = ResolveShape(shape, x.numel() / c.batch);
    shape[0] = c.batch;
    return {x.reshape(shape)};
  }
  shape = ResolveShape(shape, x.numel());
  return {x.reshape(shape)};
}

bool ReshapeBatchOk(const NodeDef&, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  if (in.size() < 2 || !OthersStatic(b) || in[0].dim() < 1) return false;
  const int64_t batch = in[0].size(0);
  if (batch < 1) return false;
  std::vector<int64_t> shape = IntValues(in[1]);
  if (shape.empty()) return false;
  try {
    shape = ResolveShape(shape, in[0].numel() / batch);
  } catch (const ModelError&) {
    return false;
  }
  return shape[0] == 1;
}

Outs OpSqueeze(OpCtx& c) {
  NeedInputs(c, 1);
  at::Tensor x = c.in[0];
  std::vector<int64_t> dims = c.node.AttrInts("squeeze_dims");
  if (dims.empty()) dims = c.node.AttrInts("axis");
  std::vector<int64_t> shape;
  std::vector<char> drop(x.dim(), 0);
  if (dims.empty()) {
    for (int64_t i = 0; i < x.dim(); ++i) drop[i] = x.size(i) == 1;
  } else {
    for (int64_t d : dims) {
      d = NormalizeAxis(d, x.dim());
      if (x.size(d) != 1) OpFail("cannot squeeze dimension " + std::to_string(d) + " of size " + std::to_string(x.size(d)));
      drop[d] = 1;
    }
  }
  for (int64_t i = 0; i < x.dim(); ++i) {
    if (!drop[i]) shape.push_back(x.size(i));
  }
  return {x.reshape(shape)};
}

bool SqueezeBatchOk(const NodeDef& node, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  if (!OthersStatic(b)) return false;
  std::vector<int64_t> dims = node.AttrInts("squeeze_dims");
  if (dims.empty()) dims = node.AttrInts("axis");
  if (dims.empty()) return false;
  for (int64_t d : dims) {
    if (d == 0 || d == -in[0].dim()) return false;
  }
  return true;
}

Outs OpExpandDims(OpCtx& c) {
  NeedInputs(c, 2);
  const at::Tensor& x = c.in[0];
  const int64_t axis = NormalizeAxis(IntScalar(c.in[1]), x.dim() + 1);
  return {x.unsqueeze(axis)};
}

bool ExpandDimsBatchOk(const NodeDef&, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  if (in.size() < 2 || !OthersStatic(b)) return false;
  const int64_t axis = IntScalar(in[1]);
  return axis != 0 && axis != -(in[0].dim() + 1);
}

// Concat along `axis` (TF requires equal ranks and dtypes).
at::Tensor ConcatTensors(const std::vector<at::Tensor>& xs, int64_t axis_value) {
  if (xs.empty()) OpFail("nothing to concatenate");
  const int64_t rank = xs[0].dim();
  if (rank == 0) OpFail("cannot concatenate scalars");
  const int64_t axis = NormalizeAxis(axis_value, rank);
  for (const at::Tensor& x : xs) {
    if (x.dim() != rank) OpFail("concat inputs have different ranks");
    if (x.scalar_type() != xs[0].scalar_type()) OpFail("concat inputs have different dtypes");
  }
  return at::cat(xs, axis);
}

Outs OpConcatV2(OpCtx& c) {
  NeedInputs(c, 2);
  std::vector<at::Tensor> xs(c.in.begin(), c.in.end() - 1);
  return {ConcatTensors(xs, IntScalar(c.in.back()))};
}
Outs OpConcat(OpCtx& c) {  // Concat (v1): axis first
  NeedInputs(c, 2);
  std::vector<at::Tensor> xs(c.in.begin() + 1, c.in.end());
  return {ConcatTensors(xs, IntScalar(c.in[0]))};
}

bool ConcatBatchOk(const NodeDef& node, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  if (in.size() < 2) return false;
  const bool v2 = node.op == "ConcatV2";
  const size_t axis_i = v2 ? in.size() - 1 : 0;
  if (b[axis_i]) return false;
  for (size_t i = 0; i < in.size(); ++i) {
    if (i != axis_i && !b[i]) return false;  // a static part would have the baked batch 1
  }
  const at::Tensor& first = in[v2 ? 0 : 1];
  const int64_t axis = IntScalar(in[axis_i]);
  return first.dim() > 0 && axis != 0 && axis != -first.dim();
}

Outs OpPack(OpCtx& c) {
  NeedInputs(c, 1);
  const int64_t rank = c.in[0].dim();
  const int64_t axis = NormalizeAxis(c.node.AttrInt("axis", 0), rank + 1);
  for (const at::Tensor& x : c.in) {
    if (x.sizes() != c.in[0].sizes()) OpFail("Pack inputs have different shapes");
  }
  return {at::stack(c.in, axis)};
}

bool PackBatchOk(const NodeDef& node, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  for (char x : b) {
    if (!x) return false;
  }
  const int64_t axis = node.AttrInt("axis", 0);
  return !in.empty() && axis != 0 && axis != -(in[0].dim() + 1);
}

Outs OpUnpack(OpCtx& c) {
  NeedInputs(c, 1);
  const at::Tensor& x = c.in[0];
  if (x.dim() == 0) OpFail("cannot unpack a scalar");
  const int64_t axis = NormalizeAxis(c.node.AttrInt("axis", 0), x.dim());
  std::vector<at::Tensor> parts = at::unbind(x, axis);
  return parts;
}

bool AxisAttrBatchOk(const NodeDef& node, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  if (!OthersStatic(b)) return false;
  const int64_t axis = node.AttrInt("axis", 0);
  return axis != 0 && axis != -in[0].dim();
}

Outs OpSplit(OpCtx& c) {  // Split(axis, value), attr num_split
  NeedInputs(c, 2);
  const at::Tensor& x = c.in[1];
  if (x.dim() == 0) OpFail("cannot split a scalar");
  const int64_t axis = NormalizeAxis(IntScalar(c.in[0]), x.dim());
  const int64_t n = c.node.AttrInt("num_split", 1);
  if (n < 1 || x.size(axis) % n != 0) OpFail("dimension " + std::to_string(x.size(axis)) + " is not divisible by num_split " + std::to_string(n));
  return at::split(x, x.size(axis) / n, axis);
}

Outs OpSplitV(OpCtx& c) {  // SplitV(value, size_splits, axis)
  NeedInputs(c, 3);
  const at::Tensor& x = c.in[0];
  if (x.dim() == 0) OpFail("cannot split a scalar");
  const int64_t axis = NormalizeAxis(IntScalar(c.in[2]), x.dim());
  std::vector<int64_t> sizes = ResolveShape(IntValues(c.in[1]), x.size(axis));
  return at::split_with_sizes(x, sizes, axis);
}

bool SplitBatchOk(const NodeDef& node, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  const bool v = node.op == "SplitV";
  const size_t value_i = v ? 0 : 1, axis_i = v ? 2 : 0;
  if (in.size() < (v ? 3u : 2u)) return false;
  for (size_t i = 0; i < in.size(); ++i) {
    if ((i == value_i) != static_cast<bool>(b[i])) return false;
  }
  const int64_t axis = IntScalar(in[axis_i]);
  return axis != 0 && axis != -in[value_i].dim();
}

Outs OpSlice(OpCtx& c) {
  NeedInputs(c, 3);
  at::Tensor x = c.in[0];
  std::vector<int64_t> begin = IntValues(c.in[1]);
  std::vector<int64_t> size = IntValues(c.in[2]);
  if (static_cast<int64_t>(begin.size()) != x.dim() || static_cast<int64_t>(size.size()) != x.dim()) {
    OpFail("begin and size must have one entry per input dimension");
  }
  for (int64_t d = 0; d < x.dim(); ++d) {
    int64_t b = begin[d], s = size[d];
    if (c.batch > 1 && d == 0) continue;  // batched: dimension 0 is kept whole (checked by batch_ok)
    if (s == -1) s = x.size(d) - b;
    if (b < 0 || s < 0 || b + s > x.size(d)) {
      OpFail("slice [" + std::to_string(begin[d]) + ", +" + std::to_string(size[d]) + ") out of bounds for dimension " +
             std::to_string(d) + " of size " + std::to_string(x.size(d)));
    }
    x = x.narrow(d, b, s);
  }
  return {x};
}

bool SliceBatchOk(const NodeDef&, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  if (in.size() < 3 || !OthersStatic(b)) return false;
  std::vector<int64_t> begin = IntValues(in[1]), size = IntValues(in[2]);
  return !begin.empty() && !size.empty() && begin[0] == 0 && (size[0] == -1 || size[0] == 1);
}

// ---- StridedSlice, following TF's dense-spec construction --------------------------------
struct StridedSliceState : OpState {
  int64_t begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask;
};

std::unique_ptr<OpState> PrepareStridedSlice(const NodeDef& node, const std::vector<const at::Tensor*>&) {
  auto s = std::make_unique<StridedSliceState>();
  s->begin_mask = node.AttrInt("begin_mask", 0);
  s->end_mask = node.AttrInt("end_mask", 0);
  s->ellipsis_mask = node.AttrInt("ellipsis_mask", 0);
  s->new_axis_mask = node.AttrInt("new_axis_mask", 0);
  s->shrink_axis_mask = node.AttrInt("shrink_axis_mask", 0);
  return s;
}

at::Tensor StridedSlice(const at::Tensor& x, const std::vector<int64_t>& sb, const std::vector<int64_t>& se,
                        const std::vector<int64_t>& ss, const StridedSliceState& m) {
  const int64_t n = static_cast<int64_t>(sb.size());
  if (static_cast<int64_t>(se.size()) != n || static_cast<int64_t>(ss.size()) != n) {
    OpFail("begin, end and strides must have the same length");
  }
  if (n > 32) OpFail("too many slice dimensions");
  auto bit = [](int64_t mask, int64_t i) { return i < 63 && ((mask >> i) & 1) != 0; };
  const int64_t rank = x.dim();
  // Sparse -> dense.
  int64_t ellipsis_mask = m.ellipsis_mask;
  int64_t sparse_dims = n;
  bool ellipsis_seen = false;
  int64_t add_after_ellipsis = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (ellipsis_seen && bit(m.new_axis_mask, i)) ++add_after_ellipsis;
    if (bit(ellipsis_mask, i)) ellipsis_seen = true;
  }
  if (!ellipsis_seen) {
    ellipsis_mask |= int64_t{1} << sparse_dims;
    ++sparse_dims;
  }
  constexpr int64_t kNewAxis = -1, kShrink = -2;
  std::vector<int64_t> begin(rank, 0), end(rank, 0), strides(rank, 1);
  std::vector<char> bmask(rank, 0), emask(rank, 0), shrink(rank, 0);
  std::vector<int64_t> gather;  // final shape: dense index, kNewAxis or kShrink
  int64_t full = 0;
  for (int64_t i = 0; i < sparse_dims; ++i) {
    if (bit(ellipsis_mask, i)) {
      const int64_t next = std::min(rank - (sparse_dims - i) + 1 + add_after_ellipsis, rank);
      for (; full < next; ++full) {
        bmask[full] = emask[full] = 1;
        gather.push_back(full);
      }
    } else if (bit(m.new_axis_mask, i)) {
      gather.push_back(kNewAxis);
    } else {
      if (full >= rank) OpFail("index out of range using input dim " + std::to_string(full));
      begin[full] = sb[i];
      end[full] = se[i];
      strides[full] = ss[i];
      bmask[full] = bit(m.begin_mask, i);
      emask[full] = bit(m.end_mask, i);
      if (bit(m.shrink_axis_mask, i)) {
        gather.push_back(kShrink);
        shrink[full] = 1;
      } else {
        gather.push_back(full);
      }
      ++full;
    }
  }
  // Per dense dimension.
  at::Tensor y = x;
  std::vector<int64_t> processing(rank);
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t dim = x.size(d);
    const int64_t stride = strides[d];
    if (stride == 0) OpFail("strides must be non-zero");
    int64_t b, e;
    if (shrink[d]) {
      if (stride <= 0) OpFail("only stride 1 allowed on non-range indexing");
      b = begin[d] < 0 ? dim + begin[d] : begin[d];
      e = b + 1;
      if (b < 0 || b >= dim) OpFail("slice index " + std::to_string(begin[d]) + " of dimension " + std::to_string(d) + " out of bounds");
    } else {
      const int64_t lo = stride > 0 ? 0 : -1, hi = stride > 0 ? dim : dim - 1;
      auto canonical = [&](int64_t v, bool masked, int which) {
        if (masked) return stride > 0 ? (which == 0 ? lo : hi) : (which == 0 ? hi : lo);
        int64_t fwd = v < 0 ? dim + v : v;
        return fwd < lo ? lo : fwd > hi ? hi : fwd;
      };
      b = canonical(begin[d], bmask[d], 0);
      e = canonical(end[d], emask[d], 1);
    }
    const int64_t len = e - b;
    int64_t size = 0;
    if (len != 0 && ((len < 0) == (stride < 0))) size = len / stride + (len % stride != 0 ? 1 : 0);
    processing[d] = size;
    if (size == 0) {
      y = y.narrow(d, 0, 0);
    } else if (stride > 0) {
      y = y.slice(d, b, b + (size - 1) * stride + 1, stride);
    } else {
      at::Tensor idx = at::arange(b, b + stride * size, stride, at::TensorOptions().dtype(at::kLong)).to(y.device());
      y = y.index_select(d, idx);
    }
  }
  std::vector<int64_t> final_shape;
  for (int64_t g : gather) {
    if (g == kNewAxis) final_shape.push_back(1);
    else if (g >= 0) final_shape.push_back(processing[g]);
  }
  return y.reshape(final_shape);
}

Outs OpStridedSlice(OpCtx& c) {
  NeedInputs(c, 4);
  const auto& m = static_cast<const StridedSliceState&>(*c.state);
  return {StridedSlice(c.in[0], IntValues(c.in[1]), IntValues(c.in[2]), IntValues(c.in[3]), m)};
}

// Batch-safe when dimension 0 is taken whole and kept: fully masked with stride 1, or covered
// by a leading ellipsis.
bool StridedSliceBatchOk(const NodeDef&, const OpState* st, const std::vector<at::Tensor>& in,
                         const std::vector<char>& b) {
  if (in.size() < 4 || !OthersStatic(b)) return false;
  const auto& m = static_cast<const StridedSliceState&>(*st);
  if (m.ellipsis_mask & 1) return true;
  if ((m.new_axis_mask & 1) || (m.shrink_axis_mask & 1)) return false;
  std::vector<int64_t> strides = IntValues(in[3]);
  return (m.begin_mask & 1) && (m.end_mask & 1) && !strides.empty() && strides[0] == 1;
}

// ---- GatherV2 ------------------------------------------------------------------------------
Outs OpGatherV2(OpCtx& c) {
  NeedInputs(c, 2);
  const at::Tensor& params = c.in[0];
  at::Tensor indices = c.in[1];
  if (indices.is_floating_point() || indices.scalar_type() == at::kBool) OpFail("indices must be integers");
  const int64_t axis = NormalizeAxis(c.in.size() > 2 ? IntScalar(c.in[2]) : 0, params.dim());
  int64_t batch_dims = c.node.AttrInt("batch_dims", 0);
  if (batch_dims < 0) batch_dims += indices.dim();
  if (batch_dims < 0 || batch_dims > axis || batch_dims > indices.dim()) OpFail("batch_dims out of range");
  for (int64_t i = 0; i < batch_dims; ++i) {
    if (params.size(i) != indices.size(i)) OpFail("params and indices differ in batch dimension " + std::to_string(i));
  }
  const int64_t limit = params.size(axis);
  if (indices.numel() > 0) {
    const int64_t lo = indices.min().item<int64_t>(), hi = indices.max().item<int64_t>();
    if (lo < 0 || hi >= limit) {
      OpFail("indices contain " + std::to_string(lo < 0 ? lo : hi) + ", not in [0, " + std::to_string(limit) + ")");
    }
  }
  indices = indices.to(at::kLong);
  std::vector<int64_t> out_shape(params.sizes().begin(), params.sizes().begin() + axis);
  for (int64_t i = batch_dims; i < indices.dim(); ++i) out_shape.push_back(indices.size(i));
  for (int64_t i = axis + 1; i < params.dim(); ++i) out_shape.push_back(params.size(i));
  if (batch_dims == 0) {
    return {params.index_select(axis, indices.reshape({-1})).reshape(out_shape)};
  }
  // Batched gather: loop over the flattened batch dimensions.
  int64_t nb = 1;
  for (int64_t i = 0; i < batch_dims; ++i) nb *= params.size(i);
  std::vector<int64_t> p_shape{nb};
  for (int64_t i = batch_dims; i < params.dim(); ++i) p_shape.push_back(params.size(i));
  at::Tensor p = params.reshape(p_shape);
  at::Tensor idx = indices.reshape({nb, -1});
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < nb; ++i) parts.push_back(p[i].index_select(axis - batch_dims, idx[i]));
  return {at::stack(parts).reshape(out_shape)};
}

bool GatherBatchOk(const NodeDef& node, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  if (in.size() < 3 || !OthersStatic(b) || node.AttrInt("batch_dims", 0) != 0) return false;
  const int64_t axis = IntScalar(in[2]);
  return axis != 0 && axis != -in[0].dim();
}

Outs OpTranspose(OpCtx& c) {
  NeedInputs(c, 2);
  std::vector<int64_t> perm = IntValues(c.in[1]);
  const at::Tensor& x = c.in[0];
  if (static_cast<int64_t>(perm.size()) != x.dim()) OpFail("perm must have one entry per dimension");
  std::vector<char> seen(perm.size(), 0);
  for (int64_t& p : perm) {
    p = NormalizeAxis(p, x.dim());
    if (seen[p]++) OpFail("perm is not a permutation");
  }
  return {x.permute(perm).contiguous()};
}

bool TransposeBatchOk(const NodeDef&, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  if (in.size() < 2 || !OthersStatic(b)) return false;
  std::vector<int64_t> perm = IntValues(in[1]);
  return !perm.empty() && perm[0] == 0;
}

std::vector<std::pair<int64_t, int64_t>> ReadPaddings(const at::Tensor& p, int64_t rank) {
  std::vector<int64_t> v = IntValues(p);
  if (static_cast<int64_t>(v.size()) != 2 * rank) OpFail("paddings must have shape [rank, 2]");
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int64_t i = 0; i < rank; ++i) {
    if (v[2 * i] < 0 || v[2 * i + 1] < 0 || v[2 * i] > 1e6 || v[2 * i + 1] > 1e6) OpFail("paddings out of range");
    out.emplace_back(v[2 * i], v[2 * i + 1]);
  }
  return out;
}

Outs OpPad(OpCtx& c) {  // Pad / PadV2
  NeedInputs(c, 2);
  const at::Tensor& x = c.in[0];
  auto pads = ReadPaddings(c.in[1], x.dim());
  std::vector<int64_t> torch_pad;
  for (int64_t i = x.dim() - 1; i >= 0; --i) {
    torch_pad.push_back(pads[i].first);
    torch_pad.push_back(pads[i].second);
  }
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  for (int64_t i = 0; i < x.dim(); ++i) shape[i] += pads[i].first + pads[i].second;
  CheckSize(shape);
  const double value = c.in.size() > 2 ? DoubleScalar(c.in[2]) : 0.0;
  if (x.dim() == 0) return {x};
  return {at::constant_pad_nd(x, torch_pad, value)};
}

Outs OpMirrorPad(OpCtx& c) {
  NeedInputs(c, 2);
  at::Tensor x = c.in[0];
  auto pads = ReadPaddings(c.in[1], x.dim());
  const std::string mode = c.node.AttrString("mode", "REFLECT");
  const bool reflect = mode == "REFLECT";
  if (!reflect && mode != "SYMMETRIC") Fail(StatusCode::kUnsupported, "unsupported MirrorPad mode '" + mode + "'");
  for (int64_t d = 0; d < x.dim(); ++d) {
    const int64_t n = x.size(d), lo = pads[d].first, hi = pads[d].second;
    if (lo == 0 && hi == 0) continue;
    const int64_t limit = reflect ? n - 1 : n;
    if (lo > limit || hi > limit) OpFail("MirrorPad paddings too large for dimension " + std::to_string(d));
    std::vector<int64_t> idx;
    for (int64_t i = -lo; i < n + hi; ++i) {
      int64_t j = i;
      if (j < 0) j = reflect ? -j : -j - 1;
      if (j >= n) j = reflect ? 2 * n - 2 - j : 2 * n - 1 - j;
      idx.push_back(j);
    }
    x = x.index_select(d, at::tensor(idx, at::kLong).to(x.device()));
  }
  return {x};
}

bool PadBatchOk(const NodeDef&, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  if (in.size() < 2 || !OthersStatic(b)) return false;
  std::vector<int64_t> p = IntValues(in[1]);
  return p.size() >= 2 && p[0] == 0 && p[1] == 0;
}

Outs OpTile(OpCtx& c) {
  NeedInputs(c, 2);
  const at::Tensor& x = c.in[0];
  std::vector<int64_t> m = IntValues(c.in[1]);
  if (static_cast<int64_t>(m.size()) != x.dim()) OpFail("multiples must have one entry per dimension");
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] < 0) OpFail("negative multiple");
    shape[i] *= m[i];
    CheckSize(shape);
  }
  if (x.dim() == 0) return {x};
  return {x.repeat(m)};
}

bool TileBatchOk(const NodeDef&, const OpState*, const std::vector<at::Tensor>& in, const std::vector<char>& b) {
  if (in.size() < 2 || !OthersStatic(b)) return false;
  std::vector<int64_t> m = IntValues(in[1]);
  return !m.empty() && m[0] == 1;
}

at::ScalarType OutType(const NodeDef& node) {
  return node.AttrType("out_type", "DT_INT32") == "DT_INT64" ? at::kLong : at::kInt;
}

Outs OpShape(OpCtx& c) {
  NeedInputs(c, 1);
  std::vector<int64_t> s(c.in[0].sizes().begin(), c.in[0].sizes().end());
  return {at::tensor(s, at::kLong).to(OutType(c.node)).to(c.in[0].device())};
}
Outs OpShapeN(OpCtx& c) {
  Outs out;
  for (const at::Tensor& x : c.in) {
    std::vector<int64_t> s(x.sizes().begin(), x.sizes().end());
    out.push_back(at::tensor(s, at::kLong).to(OutType(c.node)).to(x.device()));
  }
  return out;
}
Outs OpSize(OpCtx& c) {
  NeedInputs(c, 1);
  return {at::scalar_tensor(c.in[0].numel(), at::TensorOptions().dtype(OutType(c.node)).device(c.in[0].device()))};
}
Outs OpRank(OpCtx& c) {
  NeedInputs(c, 1);
  return {at::scalar_tensor(c.in[0].dim(), at::TensorOptions().dtype(at::kInt).device(c.in[0].device()))};
}

Outs OpFill(OpCtx& c) {
  NeedInputs(c, 2);
  std::vector<int64_t> shape = IntValues(c.in[0]);
  CheckSize(shape);
  if (c.in[1].numel() != 1) OpFail("value must be a scalar");
  return {c.in[1].reshape({}).expand(shape).contiguous()};
}

Outs OpBroadcastTo(OpCtx& c) {
  NeedInputs(c, 2);
  std::vector<int64_t> shape = IntValues(c.in[1]);
  CheckSize(shape);
  if (static_cast<int64_t>(shape.size()) < c.in[0].dim()) OpFail("target rank is smaller than the input's");
  return {c.in[0].expand(shape).contiguous()};
}

Outs OpRange(OpCtx& c) {
  NeedInputs(c, 3);
  const at::ScalarType t = c.in[0].scalar_type();
  const double start = DoubleScalar(c.in[0]), limit = DoubleScalar(c.in[1]), delta = DoubleScalar(c.in[2]);
  if (delta == 0 || !std::isfinite(start) || !std::isfinite(limit) || !std::isfinite(delta)) OpFail("invalid range");
  if ((delta > 0 && start > limit) || (delta < 0 && start < limit)) OpFail("start and limit are inconsistent with delta");
  const double n = std::ceil(std::fabs((limit - start) / delta));
  if (n > kMaxElements) OpFail("range too large");
  at::Tensor idx = at::arange(static_cast<int64_t>(n), at::TensorOptions().dtype(at::kDouble));
  return {(idx * delta + start).to(t).to(c.in[0].device())};
}

Outs OpWhere(OpCtx& c) {  // one input: coordinates of true elements
  NeedInputs(c, 1);
  if (c.in.size() == 3) return {at::where(c.in[0].to(at::kBool), c.in[1], c.in[2])};
  return {at::nonzero(c.in[0]).to(at::kInt)};
}

}  // namespace

void RegisterShapeOps(OpTable& t) {
  auto add = [&](const char* name, OpFn fn, BatchRule rule, BatchPredicate pred = nullptr, PrepareFn prep = nullptr) {
    OpInfo info;
    info.fn = fn;
    info.rule = rule;
    info.batch_ok = pred;
    info.prepare = prep;
    t.Add(name, info);
  };
  const BatchRule custom = BatchRule::kCustom, never = BatchRule::kNever, elem = BatchRule::kElementwise;
  add("Identity", OpIdentity, elem);
  add("StopGradient", OpIdentity, elem);
  add("Snapshot", OpIdentity, elem);
  add("IdentityN", OpIdentityN, never);
  add("Reshape", OpReshape, custom, ReshapeBatchOk);
  add("Squeeze", OpSqueeze, custom, SqueezeBatchOk);
  add("ExpandDims", OpExpandDims, custom, ExpandDimsBatchOk);
  add("ConcatV2", OpConcatV2, custom, ConcatBatchOk);
  add("Concat", OpConcat, custom, ConcatBatchOk);
  add("Pack", OpPack, custom, PackBatchOk);
  add("Unpack", OpUnpack, custom, AxisAttrBatchOk);
  add("Split", OpSplit, custom, SplitBatchOk);
  add("SplitV", OpSplitV, custom, SplitBatchOk);
  add("Slice", OpSlice, custom, SliceBatchOk);
  add("StridedSlice", OpStridedSlice, custom, StridedSliceBatchOk, PrepareStridedSlice);
  add("GatherV2", OpGatherV2, custom, GatherBatchOk);
  add("Gather", OpGatherV2, never);
  add("Transpose", OpTranspose, custom, TransposeBatchOk);
  add("Pad", OpPad, custom, PadBatchOk);
  add("PadV2", OpPad, custom, PadBatchOk);
  add("MirrorPad", OpMirrorPad, custom, PadBatchOk);
  add("Tile", OpTile, custom, TileBatchOk);
  add("Shape", OpShape, never);
  add("ShapeN", OpShapeN, never);
  add("Size", OpSize, never);
  add("Rank", OpRank, never);
  add("Fill", OpFill, never);
  add("BroadcastTo", OpBroadcastTo, never);
  add("Range", OpRange, never);
  add("Where", OpWhere, never);
}

}  // namespace mediadex::model::tfjs
