// Reductions (Mean, Sum, Max, Min, Prod, Any, All, ArgMax/ArgMin), Softmax and TopKV2.
#include <algorithm>

#include "model/tfjs/op_registry.h"

namespace mediadex::model::tfjs {
namespace {

using Outs = std::vector<at::Tensor>;

std::vector<int64_t> Axes(const at::Tensor& axes, int64_t rank) {
  std::vector<int64_t> v = IntValues(axes);
  for (int64_t& a : v) a = NormalizeAxis(a, rank);
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

template <typename F>
Outs Reduce(OpCtx& c, F f) {
  NeedInputs(c, 2);
  const at::Tensor& x = c.in[0];
  const bool keep = c.node.AttrBool("keep_dims", false);
  std::vector<int64_t> axes = Axes(c.in[1], x.dim());
  if (axes.empty()) return {x};
  for (int64_t a : axes) {
    if (x.size(a) == 0 && !x.is_floating_point()) OpFail("reduction over an empty dimension");
  }
  at::Tensor y = f(x, at::IntArrayRef(axes), keep);
  if (y.scalar_type() != x.scalar_type()) y = y.to(x.scalar_type());
  return {y};
}

Outs OpMean(OpCtx& c) {
  return Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) {
    if (x.is_floating_point()) return at::mean(x, a, k);
    int64_t count = 1;
    for (int64_t d : a) count *= x.size(d);
    return at::div(at::sum(x, a, k), count, "trunc");  // TF integer mean truncates
  });
}
Outs OpSum(OpCtx& c) {
  return Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) { return at::sum(x, a, k); });
}
Outs OpMax(OpCtx& c) {
  return Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) { return at::amax(x, a, k); });
}
Outs OpMin(OpCtx& c) {
  return Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) { return at::amin(x, a, k); });
}
Outs OpProd(OpCtx& c) {
  return Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) {
    at::Tensor y = x;
    for (auto it = a.rbegin(); it != a.rend(); ++it) y = at::prod(y, *it, k);
    return y;
  });
}
Outs OpAny(OpCtx& c) {
  return Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) {
    at::Tensor y = x.ne(0);
    for (auto it = a.rbegin(); it != a.rend(); ++it) y = at::any(y, *it, k);
    return y;
  });
}
Outs OpAll(OpCtx& c) {
  return Reduce(c, [](const at::Tensor& x, at::IntArrayRef a, bool k) {
    at::Tensor y = x.ne(0);
    for (auto it = a.rbegin(); it != a.rend(); ++it) y = at::all(y, *it, k);
    return y;
  });
}

Outs ArgReduce(OpCtx& c, bool is_max) {
  NeedInputs(c, 2);
  const at::Tensor& x = c.in[0];
  if (x.dim() == 0) OpFail("input must have rank >= 1");
  const int64_t axis = NormalizeAxis(IntScalar(c.in[1]), x.dim());
  if (x.size(axis) == 0) OpFail("reduction over an empty dimension");
  at::Tensor y = is_max ? at::argmax(x, axis) : at::argmin(x, axis);  // first index on ties, like TF
  const at::ScalarType out = c.node.AttrType("output_type", "DT_INT32") == "DT_INT64" ? at::kLong : at::kInt;
  return {y.to(out)};
}
Outs OpArgMax(OpCtx& c) { return ArgReduce(c, true); }
Outs OpArgMin(OpCtx& c) { return ArgReduce(c, false); }

Outs OpSoftmax(OpCtx& c) {
  NeedInputs(c, 1);
  if (c.in[0].dim() < 1) OpFail("input must have rank >= 1");
  return {at::softmax(c.in[0], -1)};
}
Outs OpLogSoftmax(OpCtx& c) {
  NeedInputs(c, 1);
  if (c.in[0].dim() < 1) OpFail("input must have rank >= 1");
  return {at::log_softmax(c.in[0], -1)};
}

// TopKV2 along the last axis, sorted, ties broken by the lower index first (as TF does).
Outs OpTopK(OpCtx& c) {
  NeedInputs(c, 2);
  at::Tensor x = c.in[0];
  if (x.dim() < 1) OpFail("input must have rank >= 1");
  const int64_t k = IntScalar(c.in[1]);
  const int64_t n = x.size(-1);
  if (k < 0 || k > n) OpFail("k = " + std::to_string(k) + " is not in [0, " + std::to_string(n) + "]");
  if (!c.node.AttrBool("sorted", true)) {
    // Unsorted order is unspecified in TF; sorted output is a valid answer.
  }
  const int64_t rows = n == 0 ? 0 : x.numel() / n;
  std::vector<int64_t> out_shape(x.sizes().begin(), x.sizes().end());
  out_shape.back() = k;
  if (rows == 0 || k == 0) {
    return {at::empty(out_shape, x.options()), at::empty(out_shape, x.options().dtype(at::kInt))};
  }
  if (n <= 4096 || k * 8 > n) {  // small rows: a stable descending sort is cheap
    auto [vals, idx] = at::sort(x, /*stable=*/true, -1, /*descending=*/true);
    return {vals.narrow(-1, 0, k).contiguous(), idx.narrow(-1, 0, k).to(at::kInt)};
  }
  // Large rows: partial top-k, then make ties exact: every value above the k-th, then the
  // lowest-index copies of the k-th value, then a stable sort of those k by value.
  at::Tensor flat = x.reshape({rows, n});
  auto [top_vals, top_idx] = at::topk(flat, k, -1, true, true);
  std::vector<at::Tensor> out_v, out_i;
  for (int64_t r = 0; r < rows; ++r) {
    at::Tensor row = flat[r];
    at::Tensor thr = top_vals[r][k - 1];
    at::Tensor above = at::nonzero(row > thr).reshape({-1});
    at::Tensor equal = at::nonzero(row == thr).reshape({-1});
    const int64_t need = k - above.size(0);
    if (need < 0 || need > equal.size(0)) {  // NaNs make the threshold meaningless: fall back
      auto [v, i] = at::sort(row, true, -1, true);
      out_v.push_back(v.narrow(0, 0, k));
      out_i.push_back(i.narrow(0, 0, k));
      continue;
    }
    at::Tensor cand = std::get<0>(at::sort(at::cat({above, equal.narrow(0, 0, need)})));
    at::Tensor cv = row.index_select(0, cand);
    auto [v, order] = at::sort(cv, true, 0, true);
    out_v.push_back(v);
    out_i.push_back(cand.index_select(0, order));
  }
  return {at::stack(out_v).reshape(out_shape), at::stack(out_i).to(at::kInt).reshape(out_shape)};
}

bool ReduceBatchOk(const NodeDef&, const OpState*, const std::vector<at::Tensor>& in,
                   const std::vector<char>& batched) {
  if (in.size() < 2 || !batched[0] || batched[1]) return false;
  for (int64_t a : IntValues(in[1])) {
    if (a == 0 || a == -in[0].dim()) return false;
  }
  return true;
}

bool LastAxisBatchOk(const NodeDef&, const OpState*, const std::vector<at::Tensor>& in,
                     const std::vector<char>& batched) {
  if (in.empty() || !batched[0] || in[0].dim() < 2) return false;
  for (size_t i = 1; i < in.size(); ++i) {
    if (batched[i]) return false;
  }
  return true;
}

}  // namespace

void RegisterReduceOps(OpTable& t) {
  OpInfo r;
  r.rule = BatchRule::kCustom;
  r.batch_ok = ReduceBatchOk;
  for (auto [name, fn] : std::initializer_list<std::pair<const char*, OpFn>>{
           {"Mean", OpMean}, {"Sum", OpSum}, {"Max", OpMax}, {"Min", OpMin}, {"Prod", OpProd},
           {"Any", OpAny}, {"All", OpAll}, {"ArgMax", OpArgMax}, {"ArgMin", OpArgMin}}) {
    r.fn = fn;
    t.Add(name, r);
  }
  OpInfo last;
  last.rule = BatchRule::kCustom;
  last.batch_ok = LastAxisBatchOk;
  last.fn = OpSoftmax;
  t.Add("Softmax", last);
  last.fn = OpLogSoftmax;
  t.Add("LogSoftmax", last);
  last.fn = OpTopK;
  t.Add("TopKV2", last);
}

}  // namespace mediadex::model::tfjs
