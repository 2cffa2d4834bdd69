// Load-time fusion (model/tfjs/fusion.h): hard-swish written as four TF ops runs as one, in a
// convolution's epilogue where it can, and every value stays what the four ops compute, bit
// for bit.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string_view>

#include "model/tfjs/fusion.h"
#include "model/tfjs/model_reader.h"
#include "tiny_graph.h"

namespace mediadex::model::tfjs {
namespace {

using testing::I;
using testing::Ints;
using testing::S;
using testing::Strs;
using testing::TinyGraph;

// TF's hard_swish over `x`, as a Keras MobileNetV3 exports it: x * (1/6) * relu6(x + 3).
void AddHardSwish(TinyGraph* g, const std::string& x, const std::string& out) {
  g->Node(out + "/mul", "Mul", {out + "/sixth", x});
  g->Node(out + "/add", "Add", {x, out + "/three"});
  g->Node(out + "/relu6", "Relu6", {out + "/add"});
  g->Node(out, "Mul", {out + "/mul", out + "/relu6"});
}

// A 1x1 convolution with bias whose output only hard-swish reads, and a sum that another node
// reads too: the first folds into the convolution, the second becomes the fused op.
TinyGraph TwoHardSwishes() {
  TinyGraph g;
  g.Placeholder("x");
  g.Const("w", at::tensor({0.5f, -2.0f, 1.5f, 3.0f}).reshape({1, 1, 2, 2}));
  g.Const("b", at::tensor({0.25f, -1.0f}));
  for (const std::string name : {"conv_hs", "sum_hs"}) {
    g.Const(name + "/sixth", at::tensor(1.0f / 6.0f));
    g.Const(name + "/three", at::tensor(3.0f));
  }
  g.Node("conv", "_FusedConv2D", {"x", "w", "b"},
         {{"padding", S("VALID")}, {"strides", Ints({1, 1, 1, 1})}, {"num_args", I(1)}, {"fused_ops", Strs({"BiasAdd"})}});
  AddHardSwish(&g, "conv", "conv_hs");
  g.Node("sum", "Add", {"conv_hs", "x"});
  AddHardSwish(&g, "sum", "sum_hs");
  g.Node("also_reads_sum", "Neg", {"sum"});
  return g;
}

at::Tensor HardSwishByFourOps(const at::Tensor& x) {
  return (x * at::tensor(1.0f / 6.0f)) * (x + at::tensor(3.0f)).clamp(0, 6);
}

TEST(TfjsFusion, FoldsHardSwishIntoTheConvolutionOrFusesItAlone) {
  const TinyGraph g = TwoHardSwishes();
  ParsedModel parsed = ParseModelJson(g.Json());
  const auto weights = DecodeWeights(parsed.groups, {std::string_view(g.Blob())});
  const FusionCounts counts = FuseHardSwish(&parsed, weights);
  EXPECT_EQ(counts.hard_swish, 2);
  EXPECT_EQ(counts.into_conv, 1);
  EXPECT_EQ(parsed.nodes[parsed.node_index.at("conv_hs")].op, "_FusedConv2D");
  EXPECT_EQ(parsed.nodes[parsed.node_index.at("sum_hs")].op, kHardSwishOp);
}

TEST(TfjsFusion, EveryValueIsWhatTheFourOpsComputeBitForBit) {
  auto model = TwoHardSwishes().Build();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  at::manual_seed(3);
  const at::Tensor x = at::randn({2, 5, 7, 2}) * 4;
  // The inner nodes are asked for too: they keep their own values after the rewrite.
  auto out = (*model)->Execute({{"x", x}}, {"conv", "conv_hs/add", "conv_hs", "sum_hs"});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const at::Tensor conv = out.value()[0];
  const at::Tensor filter = at::tensor({0.5f, -2.0f, 1.5f, 3.0f}).reshape({1, 1, 2, 2});  // HWIO
  const at::Tensor want_conv =
      at::conv2d(x.permute({0, 3, 1, 2}), filter.permute({3, 2, 0, 1}), at::tensor({0.25f, -1.0f})).permute({0, 2, 3, 1});
  EXPECT_TRUE(at::allclose(conv, want_conv, 1e-5, 1e-5));
  EXPECT_TRUE(at::equal(out.value()[1], conv + at::tensor(3.0f)));
  const at::Tensor conv_hs = HardSwishByFourOps(conv);
  EXPECT_TRUE(at::equal(out.value()[2], conv_hs));
  EXPECT_TRUE(at::equal(out.value()[3], HardSwishByFourOps(conv_hs + x)));
}

}  // namespace
}  // namespace mediadex::model::tfjs
