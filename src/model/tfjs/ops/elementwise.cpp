// Elementwise ops: unary math and activations, binary arithmetic with TF broadcasting and
// TF integer semantics (floor division, floor modulo), comparisons, logic, Cast, Select.
#include <cmath>

#include "model/tfjs/op_registry.h"

namespace mediadex::model::tfjs {
namespace {

using Outs = std::vector<at::Tensor>;

template <typename F>
Outs Unary(OpCtx& c, F f) {
  NeedInputs(c, 1);
  at::Tensor& x = c.in[0];
  const bool in_place = x.is_floating_point() && Donatable(x);
  return {f(x, in_place)};
}

#define MDX_UNARY(Name, expr_inplace, expr)                                      \
  Outs Name(OpCtx& c) {                                                          \
    return Unary(c, [](at::Tensor& x, bool ip) -> at::Tensor {                   \
      if (!x.is_floating_point()) x = x.to(at::kFloat);                           \
      return ip ? (expr_inplace) : (expr);                                       \
    });                                                                          \
  }

MDX_UNARY(OpRelu, x.relu_(), x.relu())
MDX_UNARY(OpRelu6, x.clamp_(0, 6), x.clamp(0, 6))
MDX_UNARY(OpSigmoid, x.sigmoid_(), x.sigmoid())
MDX_UNARY(OpTanh, x.tanh_(), x.tanh())
MDX_UNARY(OpExp, x.exp_(), x.exp())
MDX_UNARY(OpLog, x.log_(), x.log())
MDX_UNARY(OpLog1p, x.log1p_(), x.log1p())
MDX_UNARY(OpSqrt, x.sqrt_(), x.sqrt())
MDX_UNARY(OpRsqrt, x.rsqrt_(), x.rsqrt())
MDX_UNARY(OpReciprocal, x.reciprocal_(), x.reciprocal())
MDX_UNARY(OpElu, at::elu_(x), at::elu(x))
MDX_UNARY(OpSelu, at::selu_(x), at::selu(x))
MDX_UNARY(OpErf, x.erf_(), x.erf())
MDX_UNARY(OpSin, x.sin_(), x.sin())
MDX_UNARY(OpCos, x.cos_(), x.cos())
MDX_UNARY(OpSoftplus, at::softplus(x), at::softplus(x))
MDX_UNARY(OpSoftsign, x.div_(x.abs() + 1), x / (x.abs() + 1))
#undef MDX_UNARY

// Ops that keep integer dtypes.
Outs OpNeg(OpCtx& c) { return Unary(c, [](at::Tensor& x, bool ip) { return ip ? x.neg_() : x.neg(); }); }
Outs OpAbs(OpCtx& c) { return Unary(c, [](at::Tensor& x, bool ip) { return ip ? x.abs_() : x.abs(); }); }
Outs OpSquare(OpCtx& c) { return Unary(c, [](at::Tensor& x, bool ip) { return ip ? x.mul_(x) : x * x; }); }
Outs OpSign(OpCtx& c) { return Unary(c, [](at::Tensor& x, bool) { return x.sign(); }); }
Outs OpRound(OpCtx& c) {  // half to even, like TF
  return Unary(c, [](at::Tensor& x, bool ip) { return !x.is_floating_point() ? x : ip ? x.round_() : x.round(); });
}
Outs OpFloor(OpCtx& c) {
  return Unary(c, [](at::Tensor& x, bool ip) { return !x.is_floating_point() ? x : ip ? x.floor_() : x.floor(); });
}
Outs OpCeil(OpCtx& c) {
  return Unary(c, [](at::Tensor& x, bool ip) { return !x.is_floating_point() ? x : ip ? x.ceil_() : x.ceil(); });
}
Outs OpIsNan(OpCtx& c) { return Unary(c, [](at::Tensor& x, bool) { return x.isnan(); }); }
Outs OpLogicalNot(OpCtx& c) { return Unary(c, [](at::Tensor& x, bool) { return x.logical_not(); }); }
Outs OpZerosLike(OpCtx& c) { return Unary(c, [](at::Tensor& x, bool) { return at::zeros_like(x); }); }
Outs OpOnesLike(OpCtx& c) { return Unary(c, [](at::Tensor& x, bool) { return at::ones_like(x); }); }

Outs OpLeakyRelu(OpCtx& c) {
  NeedInputs(c, 1);
  const double alpha = c.node.AttrFloat("alpha", 0.2);
  return {at::where(c.in[0] > 0, c.in[0], c.in[0] * alpha)};
}

// Binary ops: `f(a, b)` computes a new tensor; `f_in(a, b)` overwrites a (when a is not needed
// elsewhere, has the result's shape and dtype).
template <typename F, typename FIn>
Outs Binary(OpCtx& c, F f, FIn f_in, bool commutative) {
  NeedInputs(c, 2);
  at::Tensor& a = c.in[0];
  at::Tensor& b = c.in[1];
  if (a.is_floating_point() && a.scalar_type() == b.scalar_type()) {
    if (Donatable(a) && a.dim() >= b.dim() && at::infer_size(a.sizes(), b.sizes()) == a.sizes()) {
      return {f_in(a, b)};
    }
    if (commutative && Donatable(b) && b.dim() >= a.dim() && at::infer_size(a.sizes(), b.sizes()) == b.sizes()) {
      return {f_in(b, a)};
    }
  }
  return {f(a, b)};
}

Outs OpAdd(OpCtx& c) {
  return Binary(c, [](const at::Tensor& a, const at::Tensor& b) { return a + b; },
                [](at::Tensor& a, const at::Tensor& b) { return a.add_(b); }, true);
}
Outs OpMul(OpCtx& c) {
  return Binary(c, [](const at::Tensor& a, const at::Tensor& b) { return a * b; },
                [](at::Tensor& a, const at::Tensor& b) { return a.mul_(b); }, true);
}
Outs OpSub(OpCtx& c) {
  return Binary(c, [](const at::Tensor& a, const at::Tensor& b) { return a - b; },
                [](at::Tensor& a, const at::Tensor& b) { return a.sub_(b); }, false);
}
Outs OpMaximum(OpCtx& c) {
  return Binary(c, [](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); },
                [](at::Tensor& a, const at::Tensor& b) { return at::maximum_out(a, a, b); }, true);
}
Outs OpMinimum(OpCtx& c) {
  return Binary(c, [](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); },
                [](at::Tensor& a, const at::Tensor& b) { return at::minimum_out(a, a, b); }, true);
}

void CheckNoZero(const at::Tensor& b) {
  if (!b.is_floating_point() && b.eq(0).any().item<bool>()) OpFail("integer division by zero");
}

Outs OpRealDiv(OpCtx& c) {
  NeedInputs(c, 2);
  const at::Tensor& a = c.in[0];
  const at::Tensor& b = c.in[1];
  if (!a.is_floating_point()) {  // TF Div on integers truncates
    CheckNoZero(b);
    return {at::div(a, b, "trunc")};
  }
  return Binary(c, [](const at::Tensor& x, const at::Tensor& y) { return x / y; },
                [](at::Tensor& x, const at::Tensor& y) { return x.div_(y); }, false);
}
Outs OpDivNoNan(OpCtx& c) {
  NeedInputs(c, 2);
  return {at::where(c.in[1] == 0, at::zeros({}, c.in[0].options()), c.in[0] / c.in[1])};
}
Outs OpFloorDiv(OpCtx& c) {
  NeedInputs(c, 2);
  const at::Tensor& a = c.in[0];
  const at::Tensor& b = c.in[1];
  if (a.is_floating_point() || b.is_floating_point()) return {at::floor(a / b)};
  CheckNoZero(b);
  return {at::div(a, b, "floor")};
}
Outs OpFloorMod(OpCtx& c) {
  NeedInputs(c, 2);
  const at::Tensor& a = c.in[0];
  const at::Tensor& b = c.in[1];
  if (a.is_floating_point() || b.is_floating_point()) {
    // TF: r = fmod(a, b); if r != 0 and sign(r) != sign(b): r += b.
    at::Tensor r = at::fmod(a, b);
    return {at::where((r != 0).logical_and((b < 0).logical_xor(r < 0)), r + b, r)};
  }
  CheckNoZero(b);
  return {at::remainder(a, b)};  // integer remainder takes the divisor's sign = floor modulo
}
Outs OpPow(OpCtx& c) {
  NeedInputs(c, 2);
  return {at::pow(c.in[0], c.in[1])};
}
Outs OpSquaredDifference(OpCtx& c) {
  NeedInputs(c, 2);
  at::Tensor d = c.in[0] - c.in[1];
  return {d.mul_(d)};
}
Outs OpBiasAdd(OpCtx& c) {
  NeedInputs(c, 2);
  if (c.node.AttrString("data_format", "NHWC") != "NHWC") {
    Fail(StatusCode::kUnsupported, "only NHWC data_format is supported");
  }
  if (c.in[1].dim() != 1 || c.in[0].dim() < 1 || c.in[0].size(-1) != c.in[1].size(0)) {
    OpFail("bias shape " + ShapeString(c.in[1].sizes()) + " does not match input " + ShapeString(c.in[0].sizes()));
  }
  return OpAdd(c);
}
Outs OpPrelu(OpCtx& c) {
  NeedInputs(c, 2);
  return {at::where(c.in[0] < 0, c.in[0] * c.in[1], c.in[0])};
}

#define MDX_COMPARE(Name, expr) \
  Outs Name(OpCtx& c) {         \
    NeedInputs(c, 2);           \
    const at::Tensor& a = c.in[0]; const at::Tensor& b = c.in[1]; \
    return {expr};              \
  }
MDX_COMPARE(OpEqual, at::eq(a, b))
MDX_COMPARE(OpNotEqual, at::ne(a, b))
MDX_COMPARE(OpGreater, at::gt(a, b))
MDX_COMPARE(OpGreaterEqual, at::ge(a, b))
MDX_COMPARE(OpLess, at::lt(a, b))
MDX_COMPARE(OpLessEqual, at::le(a, b))
MDX_COMPARE(OpLogicalAnd, at::logical_and(a, b))
MDX_COMPARE(OpLogicalOr, at::logical_or(a, b))
#undef MDX_COMPARE

Outs OpAddN(OpCtx& c) {
  NeedInputs(c, 1);
  at::Tensor sum = c.in[0];
  for (size_t i = 1; i < c.in.size(); ++i) sum = sum + c.in[i];
  return {sum};
}

Outs OpClipByValue(OpCtx& c) {
  NeedInputs(c, 3);
  return {at::minimum(at::maximum(c.in[0], c.in[1]), c.in[2])};
}

Outs OpSelect(OpCtx& c) {
  NeedInputs(c, 3);
  at::Tensor cond = c.in[0];
  if (cond.scalar_type() != at::kBool) OpFail("condition must be bool");
  const at::Tensor& x = c.in[1];
  // Select (v1): a vector condition picks whole rows of x.
  if (c.node.op == "Select" && cond.dim() == 1 && x.dim() > 1) {
    if (cond.size(0) != x.size(0)) OpFail("condition length does not match the first dimension of x");
    std::vector<int64_t> shape(x.dim(), 1);
    shape[0] = cond.size(0);
    cond = cond.reshape(shape);
  }
  return {at::where(cond, x, c.in[2])};
}

Outs OpCast(OpCtx& c) {
  NeedInputs(c, 1);
  const at::ScalarType dst = TfType(c.node, "DstT", "DT_FLOAT");
  if (dst == at::kBool) return {c.in[0].ne(0)};
  return {c.in[0].to(dst)};
}

}  // namespace

void RegisterElementwiseOps(OpTable& t) {
  const BatchRule e = BatchRule::kElementwise;
  for (auto [name, fn] : std::initializer_list<std::pair<const char*, OpFn>>{
           {"Relu", OpRelu}, {"Relu6", OpRelu6}, {"Sigmoid", OpSigmoid}, {"Tanh", OpTanh}, {"Exp", OpExp},
           {"Log", OpLog}, {"Log1p", OpLog1p}, {"Sqrt", OpSqrt}, {"Rsqrt", OpRsqrt},
           {"Reciprocal", OpReciprocal}, {"Inv", OpReciprocal}, {"Elu", OpElu}, {"Selu", OpSelu},
           {"Erf", OpErf}, {"Sin", OpSin}, {"Cos", OpCos}, {"Softplus", OpSoftplus}, {"Softsign", OpSoftsign},
           {"Neg", OpNeg}, {"Abs", OpAbs}, {"Square", OpSquare}, {"Sign", OpSign}, {"Round", OpRound},
           {"Floor", OpFloor}, {"Ceil", OpCeil}, {"IsNan", OpIsNan}, {"LogicalNot", OpLogicalNot},
           {"ZerosLike", OpZerosLike}, {"OnesLike", OpOnesLike}, {"LeakyRelu", OpLeakyRelu},
           {"Add", OpAdd}, {"AddV2", OpAdd}, {"Mul", OpMul}, {"Sub", OpSub}, {"Maximum", OpMaximum},
           {"Minimum", OpMinimum}, {"RealDiv", OpRealDiv}, {"Div", OpRealDiv}, {"DivNoNan", OpDivNoNan},
           {"FloorDiv", OpFloorDiv}, {"FloorMod", OpFloorMod}, {"Pow", OpPow},
           {"SquaredDifference", OpSquaredDifference}, {"BiasAdd", OpBiasAdd}, {"Prelu", OpPrelu},
           {"Equal", OpEqual}, {"NotEqual", OpNotEqual}, {"Greater", OpGreater},
           {"GreaterEqual", OpGreaterEqual}, {"Less", OpLess}, {"LessEqual", OpLessEqual},
           {"LogicalAnd", OpLogicalAnd}, {"LogicalOr", OpLogicalOr}, {"AddN", OpAddN},
           {"ClipByValue", OpClipByValue}, {"Select", OpSelect}, {"SelectV2", OpSelect}, {"Cast", OpCast}}) {
    OpInfo info;
    info.fn = fn;
    info.rule = e;
    t.Add(name, info);
  }
}

}  // namespace mediadex::model::tfjs

namespace mediadex::model::tfjs {
namespace {

// FusedBatchNorm / V3 in inference form: (x - mean) * scale / sqrt(var + eps) + offset.
std::vector<at::Tensor> OpFusedBatchNorm(OpCtx& c) {
  NeedInputs(c, 5);
  if (c.node.AttrString("data_format", "NHWC") != "NHWC") Fail(StatusCode::kUnsupported, "only NHWC data_format is supported");
  const double eps = c.node.AttrFloat("epsilon", 1e-3);
  const at::Tensor& x = c.in[0];
  if (x.dim() < 1) OpFail("input must have rank >= 1");
  for (int i = 1; i < 5; ++i) {
    if (c.in[i].numel() != x.size(-1)) OpFail("batch norm parameters do not match the channel count");
  }
  at::Tensor factor = c.in[1].reshape({-1}) * at::rsqrt(c.in[4].reshape({-1}) + eps);
  return {(x - c.in[3].reshape({-1})) * factor + c.in[2].reshape({-1})};
}

}  // namespace

void RegisterBatchNormOps(OpTable& t) {
  OpInfo info;
  info.fn = OpFusedBatchNorm;
  info.rule = BatchRule::kFirstInput;
  for (const char* name : {"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"}) t.Add(name, info);
}

}  // namespace mediadex::model::tfjs
