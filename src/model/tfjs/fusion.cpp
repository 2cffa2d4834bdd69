#include "model/tfjs/fusion.h"

#include <optional>
#include <set>
#include <vector>

#include "engine/gpu_runtime.h"
#include "model/tfjs/op_registry.h"

namespace mediadex::model::tfjs {
namespace {

struct Ref {
  int node = -1;
  int output = 0;
  bool operator==(const Ref& o) const { return node == o.node && output == o.output; }
};

Ref Input(const NodeDef& node, size_t k) { return {node.input_nodes[k], node.input_outputs[k]}; }

bool IsOp(const ParsedModel& g, const Ref& r, std::initializer_list<const char*> ops) {
  if (r.output != 0) return false;
  for (const char* op : ops) {
    if (g.nodes[r.node].op == op) return true;
  }
  return false;
}

// The value of a float constant with one element, if `r` is one.
std::optional<float> ScalarConstant(const ParsedModel& g, const Ref& r,
                                    const std::unordered_map<std::string, at::Tensor>& weights) {
  if (!IsOp(g, r, {"Const"})) return std::nullopt;
  auto it = weights.find(g.nodes[r.node].name);
  if (it == weights.end() || it->second.numel() != 1 || it->second.scalar_type() != at::kFloat) return std::nullopt;
  return it->second.item<float>();
}

// A binary op of x and a scalar constant, either way round: x and the constant.
std::optional<std::pair<Ref, float>> WithScalar(const ParsedModel& g, const NodeDef& node,
                                                const std::unordered_map<std::string, at::Tensor>& weights) {
  if (node.input_nodes.size() != 2) return std::nullopt;
  for (size_t k = 0; k < 2; ++k) {
    if (auto c = ScalarConstant(g, Input(node, 1 - k), weights)) return std::make_pair(Input(node, k), *c);
  }
  return std::nullopt;
}

// A convolution the conv ops run with no activation of their own yet.
bool ConvWithoutActivation(const NodeDef& node) {
  static const std::set<std::string> convs = {"Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "DepthwiseConv2D",
                                              "FusedDepthwiseConv2dNative"};
  if (!convs.count(node.op) || node.FindAttr(kHardSwishAttr) != nullptr) return false;
  return node.AttrStrings("fused_ops").size() <= 1;  // [BiasAdd] or [FusedBatchNorm]: no activation
}

AttrValue HardSwishParams(float scale, float offset) {
  AttrValue a;
  a.kind = AttrValue::kList;
  a.list_f = {scale, offset};
  return a;
}

}  // namespace

FusionCounts FuseHardSwish(ParsedModel* g, const std::unordered_map<std::string, at::Tensor>& weights) {
  FusionCounts counts;
  const size_t n = g->nodes.size();
  std::vector<int> readers(n, 0);  // how many inputs read a node (any output), signature included
  for (const NodeDef& node : g->nodes) {
    for (int src : node.input_nodes) ++readers[src];
  }
  for (const IoRef& r : g->outputs) ++readers[r.node];

  for (size_t m = 0; m < n; ++m) {
    NodeDef& product = g->nodes[m];
    if (product.op != "Mul" || product.input_nodes.size() != 2) continue;
    // product = scaled * Relu6(shifted), scaled = x * scale, shifted = x + offset.
    for (size_t k = 0; k < 2; ++k) {
      const Ref relu6 = Input(product, k), scaled = Input(product, 1 - k);
      if (!IsOp(*g, relu6, {"Relu6"}) || !IsOp(*g, scaled, {"Mul"})) continue;
      const NodeDef& relu6_node = g->nodes[relu6.node];
      if (relu6_node.input_nodes.size() != 1 || !IsOp(*g, Input(relu6_node, 0), {"Add", "AddV2"})) continue;
      const Ref shifted = Input(relu6_node, 0);
      const auto add = WithScalar(*g, g->nodes[shifted.node], weights);
      const auto mul = WithScalar(*g, g->nodes[scaled.node], weights);
      if (!add || !mul || !(add->first == mul->first)) continue;
      const Ref x = add->first;
      const AttrValue params = HardSwishParams(mul->second, add->second);
      const NodeDef& producer = g->nodes[x.node];
      // x read by the pattern alone, its three inner nodes by nothing else: the product can be
      // the convolution itself, with hard-swish as its epilogue.
      const bool only_the_pattern = x.output == 0 && readers[x.node] == 2 && readers[scaled.node] == 1 &&
                                    readers[relu6.node] == 1 && readers[shifted.node] == 1;
      if (only_the_pattern && ConvWithoutActivation(producer)) {
        const std::string name = product.name;
        product = producer;  // the same convolution, under the product's name
        product.name = name;
        product.attrs[kHardSwishAttr] = params;
        ++counts.into_conv;
      } else {
        product.op = kHardSwishOp;
        product.input_nodes = {x.node};
        product.input_outputs = {x.output};
        product.attrs = {{kHardSwishAttr, params}};
      }
      ++counts.hard_swish;
      break;
    }
  }
  return counts;
}

at::Tensor HardSwish(const at::Tensor& x, float scale, float offset, bool in_place) {
  if (x.is_cuda() && x.scalar_type() == at::kFloat && x.is_contiguous() && engine::HasCudaKernels()) {
    return engine::Activate(x, engine::Epilogue{engine::Epilogue::Kind::kHardSwish, scale, offset}, in_place);
  }
  const at::Tensor gate = x.add(offset).clamp_(0, 6);
  at::Tensor out = in_place ? x : x.clone();
  return out.mul_(scale).mul_(gate);
}

namespace {

std::vector<at::Tensor> OpHardSwish(OpCtx& c) {
  NeedInputs(c, 1);
  const AttrValue* params = c.node.FindAttr(kHardSwishAttr);
  if (params == nullptr || params->list_f.size() != 2) OpFail("malformed fused hard-swish");
  at::Tensor& x = c.in[0];
  if (!x.is_floating_point()) OpFail("hard-swish of a non-float tensor");
  return {HardSwish(x, static_cast<float>(params->list_f[0]), static_cast<float>(params->list_f[1]), Donatable(x))};
}

}  // namespace

void RegisterFusedOps(OpTable& t) {
  OpInfo info;
  info.fn = OpHardSwish;
  info.rule = BatchRule::kElementwise;
  t.Add(kHardSwishOp, info);
}

}  // namespace mediadex::model::tfjs
