// Convolutions (Conv2D, DepthwiseConv2dNative, their fused forms, Conv2DBackpropInput).
// Values stay NHWC-contiguous: x.permute(0,3,1,2) is an NCHW view with channels_last strides,
// so LibTorch's conv runs its NHWC kernels and permuting the result back costs no copy.
// Filters are converted once at load (HWIO -> OIHW, depthwise -> grouped), fused batch norms
// folded into them. Depthwise convolutions on CUDA are the exception (DepthwiseRunner).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>

#include "engine/gpu_runtime.h"
#include "model/tfjs/fusion.h"
#include "model/tfjs/op_registry.h"
#include "model/tfjs/ops/conv_util.h"

namespace mediadex::model::tfjs {

Window2d ReadWindow(const NodeDef& node, const char* stride_key) {
  Window2d w;
  if (node.AttrString("data_format", "NHWC") != "NHWC") {
    Fail(StatusCode::kUnsupported, "only NHWC data_format is supported");
  }
  std::vector<int64_t> s = node.AttrInts(stride_key);
  if (!s.empty()) {
    if (s.size() != 4) Fail(StatusCode::kCorrupt, std::string(stride_key) + " must have 4 entries");
    w.stride_h = s[1];
    w.stride_w = s[2];
  }
  std::vector<int64_t> d = node.AttrInts("dilations");
  if (!d.empty()) {
    if (d.size() != 4) Fail(StatusCode::kCorrupt, "dilations must have 4 entries");
    w.dilation_h = d[1];
    w.dilation_w = d[2];
  }
  if (w.stride_h < 1 || w.stride_w < 1 || w.dilation_h < 1 || w.dilation_w < 1 || w.stride_h > 1024 ||
      w.stride_w > 1024 || w.dilation_h > 1024 || w.dilation_w > 1024) {
    Fail(StatusCode::kCorrupt, "strides and dilations must be in [1, 1024]");
  }
  const std::string pad = node.AttrString("padding", "VALID");
  if (pad == "SAME") {
    w.pad = PadMode::kSame;
  } else if (pad == "VALID") {
    w.pad = PadMode::kValid;
  } else if (pad == "EXPLICIT") {
    w.pad = PadMode::kExplicit;
    std::vector<int64_t> e = node.AttrInts("explicit_paddings");
    if (e.size() != 8) Fail(StatusCode::kCorrupt, "explicit_paddings must have 8 entries");
    for (int i = 0; i < 4; ++i) {
      if (e[2 + i] < 0 || e[2 + i] > 4096) Fail(StatusCode::kCorrupt, "explicit padding out of range");
      w.explicit_pad[i] = e[2 + i];
    }
  } else {
    Fail(StatusCode::kUnsupported, "unsupported padding '" + pad + "'");
  }
  return w;
}

Pads ComputePads(const Window2d& w, int64_t h, int64_t wd, int64_t kh, int64_t kw) {
  if (w.pad == PadMode::kExplicit) {
    return {w.explicit_pad[0], w.explicit_pad[1], w.explicit_pad[2], w.explicit_pad[3]};
  }
  if (w.pad == PadMode::kValid) return {0, 0, 0, 0};
  auto same = [](int64_t in, int64_t k, int64_t s, int64_t d) {
    const int64_t eff = (k - 1) * d + 1;
    const int64_t out = (in + s - 1) / s;
    return std::max<int64_t>((out - 1) * s + eff - in, 0);
  };
  const int64_t th = same(h, kh, w.stride_h, w.dilation_h);
  const int64_t tw = same(wd, kw, w.stride_w, w.dilation_w);
  return {th / 2, th - th / 2, tw / 2, tw - tw / 2};  // the odd pixel goes bottom / right
}

namespace {

using Outs = std::vector<at::Tensor>;

enum class Act { kNone, kRelu, kRelu6, kElu, kLeakyRelu, kPrelu, kSigmoid, kTanh, kHardSwish };

struct ConvState : OpState {
  bool depthwise = false;
  Window2d window;
  // Fused epilogue.
  bool has_bias = false;
  bool has_bn = false;
  Act act = Act::kNone;
  double alpha = 0.2;
  float hard_swish_scale = 1.0f / 6.0f, hard_swish_offset = 3.0f;  // Act::kHardSwish (fusion.h)
  int num_args = 0;
  double epsilon = 1e-3;
  // Filled at load when the filter and extra args are constants.
  at::Tensor weight;  // OIHW, channels_last (depthwise: plain OIHW, see DepthwiseRunner)
  at::Tensor weight_hwc;  // depthwise on CUDA: [kh, kw, C], for our GPU kernel
  at::Tensor bias;    // [O] or undefined
  at::Tensor prelu_alpha;
};

// Filter [kh, kw, I, O] (or depthwise [kh, kw, C, M]) and the fused args -> conv weight & bias.
void ConvertFilter(const ConvState& s, const at::Tensor& filter, const std::vector<at::Tensor>& args,
                   at::Tensor* weight, at::Tensor* weight_hwc, at::Tensor* bias) {
  if (filter.dim() != 4) OpFail("filter must be 4-D, got " + ShapeString(filter.sizes()));
  if (!filter.is_floating_point()) OpFail("filter must be float");
  at::Tensor w;
  if (s.depthwise) {
    const int64_t c = filter.size(2), m = filter.size(3);
    w = filter.permute({2, 3, 0, 1}).reshape({c * m, 1, filter.size(0), filter.size(1)});
  } else {
    w = filter.permute({3, 2, 0, 1});
  }
  w = w.to(at::kFloat).contiguous();
  const int64_t out_ch = w.size(0);
  at::Tensor b;
  if (s.has_bias) {
    if (args.empty() || args[0].numel() != out_ch) OpFail("bias does not match the filter's output channels");
    b = args[0].to(at::kFloat).reshape({out_ch});
  }
  if (s.has_bn) {
    if (args.size() < 4) OpFail("FusedBatchNorm needs scale, offset, mean and variance");
    for (int i = 0; i < 4; ++i) {
      if (args[i].numel() != out_ch) OpFail("batch norm parameters do not match the filter's output channels");
    }
    at::Tensor scale = args[0].to(at::kFloat).reshape({out_ch});
    at::Tensor offset = args[1].to(at::kFloat).reshape({out_ch});
    at::Tensor mean = args[2].to(at::kFloat).reshape({out_ch});
    at::Tensor var = args[3].to(at::kFloat).reshape({out_ch});
    at::Tensor factor = scale * at::rsqrt(var + s.epsilon);
    w = w * factor.reshape({out_ch, 1, 1, 1});
    b = offset - mean * factor;
  }
  // A depthwise filter [C*M, 1, kh, kw] is laid out alike either way; plain strides let a CUDA
  // input in NCHW pick LibTorch's own depthwise kernel (DepthwiseRunner).
  *weight = s.depthwise ? w : w.contiguous(at::MemoryFormat::ChannelsLast);
  if (s.depthwise && w.is_cuda()) {  // our GPU kernel's layout (DepthwiseRunner); unused elsewhere
    *weight_hwc = w.reshape({w.size(0), w.size(2), w.size(3)}).permute({1, 2, 0}).contiguous();
  }
  *bias = b.defined() ? b.contiguous() : b;
}

std::unique_ptr<OpState> PrepareConv(const NodeDef& node, const std::vector<const at::Tensor*>& st) {
  auto s = std::make_unique<ConvState>();
  s->depthwise = node.op.find("Depthwise") != std::string::npos;
  s->window = ReadWindow(node, "strides");
  const bool fused = node.op == "_FusedConv2D" || node.op == "FusedDepthwiseConv2dNative";
  if (fused) {
    s->num_args = static_cast<int>(node.AttrInt("num_args", 0));
    s->epsilon = node.AttrFloat("epsilon", 1e-3);
    if (s->epsilon <= 0) s->epsilon = 1e-3;
    std::vector<std::string> ops = node.AttrStrings("fused_ops");
    for (size_t i = 0; i < ops.size(); ++i) {
      const std::string& op = ops[i];
      if (i == 0 && op == "BiasAdd") {
        s->has_bias = true;
      } else if (i == 0 && op == "FusedBatchNorm") {
        s->has_bn = true;
      } else if (i == 1 && op == "Relu") {
        s->act = Act::kRelu;
      } else if (i == 1 && op == "Relu6") {
        s->act = Act::kRelu6;
      } else if (i == 1 && op == "Elu") {
        s->act = Act::kElu;
      } else if (i == 1 && op == "LeakyRelu") {
        s->act = Act::kLeakyRelu;
        s->alpha = node.AttrFloat("leakyrelu_alpha", 0.2);
      } else if (i == 1 && op == "Prelu") {
        s->act = Act::kPrelu;
      } else if (i == 1 && op == "Sigmoid") {
        s->act = Act::kSigmoid;
      } else if (i == 1 && op == "Tanh") {
        s->act = Act::kTanh;
      } else {
        Fail(StatusCode::kUnsupported, "unsupported fused op '" + op + "'");
      }
    }
    const int needed = (s->has_bias ? 1 : 0) + (s->has_bn ? 4 : 0) + (s->act == Act::kPrelu ? 1 : 0);
    if (s->num_args < needed) Fail(StatusCode::kCorrupt, "num_args is smaller than the fused ops need");
    if (node.input_nodes.size() < static_cast<size_t>(2 + needed)) {
      Fail(StatusCode::kCorrupt, "fused conv has fewer inputs than its fused ops need");
    }
  }
  if (const AttrValue* hard_swish = node.FindAttr(kHardSwishAttr)) {  // fusion.cpp folded it in
    if (s->act != Act::kNone || hard_swish->list_f.size() != 2) Fail(StatusCode::kCorrupt, "malformed fused hard-swish");
    s->act = Act::kHardSwish;
    s->hard_swish_scale = static_cast<float>(hard_swish->list_f[0]);
    s->hard_swish_offset = static_cast<float>(hard_swish->list_f[1]);
  }
  // Convert the filter now when it and the epilogue args are constants.
  const int n_args = (s->has_bias ? 1 : 0) + (s->has_bn ? 4 : 0);
  bool all_static = st.size() >= static_cast<size_t>(2 + n_args) && st[1] != nullptr;
  std::vector<at::Tensor> args;
  for (int i = 0; all_static && i < n_args; ++i) {
    if (st[2 + i] == nullptr) all_static = false;
    else args.push_back(*st[2 + i]);
  }
  if (all_static) {
    try {
      ConvertFilter(*s, *st[1], args, &s->weight, &s->weight_hwc, &s->bias);
    } catch (const ModelError& e) {
      Fail(StatusCode::kCorrupt, e.what());
    }
  }
  if (s->act == Act::kPrelu && st.size() > static_cast<size_t>(2 + n_args) && st[2 + n_args]) {
    s->prelu_alpha = *st[2 + n_args];
  }
  return s;
}

// Who runs a depthwise convolution on a CUDA GPU. cuDNN (LibTorch's choice for channels_last)
// plans each new shape on first use: ~0.17 s per layer, 4.5 s for CenterNet's 26 at every new
// batch size (H100, cuDNN 9, MEDIADEX_PROFILE_OPS=1; docs/performance.md). LibTorch's own
// kernel wants NCHW: two layout copies per layer. So by default our own NHWC kernel
// (engine::DepthwiseConv2dNhwc), with the activation as its epilogue, runs them;
// MEDIADEX_DEPTHWISE=torch|cudnn picks the others, to compare.
enum class DepthwiseBy { kOurs, kTorchNchw, kConv2d };  // kConv2d: at::conv2d as is (cuDNN on CUDA)

DepthwiseBy DepthwiseRunner(const at::Tensor& x, const at::Tensor& weight, int64_t groups) {
  static const std::string chosen = [] {
    const char* env = std::getenv("MEDIADEX_DEPTHWISE");
    return std::string(env != nullptr ? env : "ours");
  }();
  if (groups <= 1 || !x.is_cuda() || chosen == "cudnn") return DepthwiseBy::kConv2d;
  const bool ours = chosen != "torch" && engine::HasCudaKernels() && weight.size(0) == groups &&
                    weight.size(1) == 1 && weight.scalar_type() == at::kFloat;
  return ours ? DepthwiseBy::kOurs : DepthwiseBy::kTorchNchw;
}

// The activation as our kernels' epilogue, where they have it.
std::optional<engine::Epilogue> AsEpilogue(const ConvState& s) {
  using Kind = engine::Epilogue::Kind;
  switch (s.act) {
    case Act::kNone: return engine::Epilogue{};
    case Act::kRelu: return engine::Epilogue{Kind::kRelu};
    case Act::kRelu6: return engine::Epilogue{Kind::kRelu6};
    case Act::kHardSwish: return engine::Epilogue{Kind::kHardSwish, s.hard_swish_scale, s.hard_swish_offset};
    default: return std::nullopt;
  }
}

at::Tensor ApplyAct(at::Tensor y, const ConvState& s, const at::Tensor& prelu) {
  switch (s.act) {
    case Act::kNone: return y;
    case Act::kRelu: return y.relu_();
    case Act::kRelu6: return y.clamp_(0, 6);
    case Act::kElu: return at::elu_(y);
    case Act::kLeakyRelu: return at::where(y > 0, y, y * s.alpha);
    case Act::kPrelu: return at::where(y < 0, y * prelu, y);
    case Act::kSigmoid: return y.sigmoid_();
    case Act::kTanh: return y.tanh_();
    case Act::kHardSwish: return HardSwish(y, s.hard_swish_scale, s.hard_swish_offset, /*in_place=*/true);
  }
  return y;
}

Outs OpConv(OpCtx& c) {
  const auto& s = static_cast<const ConvState&>(*c.state);
  NeedInputs(c, 2);
  at::Tensor weight = s.weight, weight_hwc = s.weight_hwc, bias = s.bias;
  const int n_args = (s.has_bias ? 1 : 0) + (s.has_bn ? 4 : 0);
  if (!weight.defined()) {  // filter computed at run time
    NeedInputs(c, 2 + n_args);
    std::vector<at::Tensor> args(c.in.begin() + 2, c.in.begin() + 2 + n_args);
    ConvertFilter(s, c.in[1], args, &weight, &weight_hwc, &bias);
  }
  at::Tensor prelu = s.prelu_alpha;
  if (s.act == Act::kPrelu && !prelu.defined()) {
    NeedInputs(c, 3 + n_args);
    prelu = c.in[2 + n_args];
  }
  // NHWC conv through the channels_last NCHW view. `weight` is OIHW.
  at::Tensor x = c.in[0];
  if (x.dim() != 4) OpFail("input must be 4-D NHWC, got " + ShapeString(x.sizes()));
  if (!x.is_floating_point()) OpFail("input must be float");
  x = x.to(at::kFloat).contiguous();
  const int64_t groups = s.depthwise ? x.size(3) : 1;
  if (groups < 1 || weight.size(0) % groups != 0 || x.size(3) != weight.size(1) * groups) {
    OpFail("input has " + std::to_string(x.size(3)) + " channels, filter expects " +
           std::to_string(s.depthwise ? weight.size(0) : weight.size(1)));
  }
  const Window2d& w = s.window;
  const int64_t kh = weight.size(2), kw = weight.size(3);
  const Pads p = ComputePads(w, x.size(1), x.size(2), kh, kw);
  const int64_t eff_h = (kh - 1) * w.dilation_h + 1, eff_w = (kw - 1) * w.dilation_w + 1;
  if (x.size(1) + p.top + p.bottom < eff_h || x.size(2) + p.left + p.right < eff_w) {
    OpFail("input " + ShapeString(x.sizes()) + " is smaller than the kernel");
  }
  const DepthwiseBy depthwise = DepthwiseRunner(x, weight, groups);
  if (depthwise == DepthwiseBy::kOurs) {
    const std::optional<engine::Epilogue> epilogue = AsEpilogue(s);
    const engine::DepthwiseWindow window{w.stride_h, w.stride_w, w.dilation_h, w.dilation_w,
                                         p.top,      p.bottom,   p.left,       p.right};
    at::Tensor y = engine::DepthwiseConv2dNhwc(x, weight_hwc, bias.defined() ? bias.to(at::kFloat) : bias, window,
                                               epilogue.value_or(engine::Epilogue{}));
    return {epilogue ? y : ApplyAct(y, s, prelu)};
  }
  int64_t ph = 0, pw = 0;
  if (p.top == p.bottom && p.left == p.right) {
    ph = p.top;
    pw = p.left;
  } else {  // TF SAME puts the odd pixel at bottom/right: pad explicitly (NHWC stays contiguous)
    x = at::constant_pad_nd(x, {0, 0, p.left, p.right, p.top, p.bottom}, 0);
  }
  at::Tensor nchw = x.permute({0, 3, 1, 2});
  if (depthwise == DepthwiseBy::kTorchNchw) nchw = nchw.contiguous();
  at::Tensor y = at::conv2d(nchw, weight, bias, {w.stride_h, w.stride_w}, {ph, pw}, {w.dilation_h, w.dilation_w}, groups);
  return {ApplyAct(y.permute({0, 2, 3, 1}).contiguous(), s, prelu)};
}

// Conv2DBackpropInput(output_shape, filter [kh,kw,O,I], dy): the transposed convolution.
struct DeconvState : OpState {
  Window2d window;
};
std::unique_ptr<OpState> PrepareDeconv(const NodeDef& node, const std::vector<const at::Tensor*>&) {
  auto s = std::make_unique<DeconvState>();
  s->window = ReadWindow(node, "strides");
  return s;
}

Outs OpConv2DBackpropInput(OpCtx& c) {
  const auto& s = static_cast<const DeconvState&>(*c.state);
  NeedInputs(c, 3);
  std::vector<int64_t> out_shape = IntValues(c.in[0]);
  const at::Tensor& filter = c.in[1];
  at::Tensor dy = c.in[2];
  if (out_shape.size() != 4 || filter.dim() != 4 || dy.dim() != 4) OpFail("expects 4-D shapes");
  out_shape[0] = dy.size(0);  // the batch comes from the data, not the baked shape
  const int64_t kh = filter.size(0), kw = filter.size(1);
  if (filter.size(3) != dy.size(3)) OpFail("filter does not match the input's channels");
  Pads p = ComputePads(s.window, out_shape[1], out_shape[2], kh, kw);
  // conv_transpose2d computes out = (in-1)*s - 2*pad + eff + output_padding; use the full
  // (unpadded) transposed conv and crop TF's window out of it.
  at::Tensor w = filter.permute({3, 2, 0, 1}).to(at::kFloat).contiguous();  // [I(dy ch), O, kh, kw]
  at::Tensor full = at::conv_transpose2d(dy.to(at::kFloat).permute({0, 3, 1, 2}).contiguous(), w, {},
                                         {s.window.stride_h, s.window.stride_w}, {0, 0}, {0, 0}, 1,
                                         {s.window.dilation_h, s.window.dilation_w});
  if (full.size(2) < p.top + out_shape[1] || full.size(3) < p.left + out_shape[2]) {
    // Pad at the end when the requested output is larger than the full result.
    const int64_t extra_h = std::max<int64_t>(p.top + out_shape[1] - full.size(2), 0);
    const int64_t extra_w = std::max<int64_t>(p.left + out_shape[2] - full.size(3), 0);
    full = at::constant_pad_nd(full, {0, extra_w, 0, extra_h}, 0);
  }
  at::Tensor y = full.slice(2, p.top, p.top + out_shape[1]).slice(3, p.left, p.left + out_shape[2]);
  if (y.size(1) != out_shape[3]) OpFail("output_shape channels do not match the filter");
  return {y.permute({0, 2, 3, 1}).contiguous()};
}

}  // namespace

void RegisterConvOps(OpTable& t) {
  OpInfo conv;
  conv.fn = OpConv;
  conv.rule = BatchRule::kFirstInput;
  conv.prepare = PrepareConv;
  for (const char* name : {"Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "DepthwiseConv2D",
                           "FusedDepthwiseConv2dNative"}) {
    t.Add(name, conv);
  }
  OpInfo deconv;
  deconv.fn = OpConv2DBackpropInput;
  deconv.rule = BatchRule::kCustom;
  deconv.batch_ok = [](const NodeDef&, const OpState*, const std::vector<at::Tensor>&,
                       const std::vector<char>& batched) {
    return batched.size() == 3 && !batched[0] && !batched[1] && batched[2];
  };
  deconv.prepare = PrepareDeconv;
  t.Add("Conv2DBackpropInput", deconv);
}

}  // namespace mediadex::model::tfjs
