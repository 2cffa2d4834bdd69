// Op semantics against hand-computed TensorFlow results, on tiny in-memory graphs.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "model/tfjs/graph_model.h"
#include "model/tfjs/ops/resize.h"
#include "testutil.h"
#include "tiny_graph.h"

namespace mediadex::model::tfjs {
namespace {

using testing::B;
using testing::F;
using testing::I;
using testing::Ints;
using testing::S;
using testing::Strs;
using testing::TinyGraph;

// Runs `g` and returns its outputs; fails the test (empty result) on an error.
std::vector<at::Tensor> RunGraph(const TinyGraph& g, const std::map<std::string, at::Tensor>& feeds,
                            const std::vector<std::string>& outs) {
  auto model = g.Build();
  if (!model.ok()) {
    ADD_FAILURE() << model.status().ToString();
    return {};
  }
  auto r = (*model)->Execute(feeds, outs);
  if (!r.ok()) {
    ADD_FAILURE() << r.status().ToString();
    return {};
  }
  return r.value();
}

at::Tensor T(std::vector<float> v, std::vector<int64_t> shape) { return at::tensor(v).reshape(shape); }
at::Tensor Ti(std::vector<int32_t> v, std::vector<int64_t> shape) {
  return at::tensor(std::vector<int>(v.begin(), v.end()), at::kInt).reshape(shape);
}
void ExpectNear(const at::Tensor& got, const at::Tensor& want, double tol = 1e-5) {
  ASSERT_TRUE(got.defined());
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_TRUE(at::allclose(got.to(at::kDouble), want.to(at::kDouble), 0, tol)) << "got\n" << got << "\nwant\n" << want;
}
void ExpectEq(const at::Tensor& got, const at::Tensor& want) {
  ASSERT_TRUE(got.defined());
  ASSERT_EQ(got.sizes(), want.sizes());
  ASSERT_EQ(got.scalar_type(), want.scalar_type());
  EXPECT_TRUE(at::equal(got, want)) << "got\n" << got << "\nwant\n" << want;
}

TinyGraph ConvGraph(const std::string& padding, int64_t stride) {
  TinyGraph g;
  g.Placeholder("x");
  g.Const("w", at::ones({3, 3, 1, 1}));
  g.Node("y", "Conv2D", {"x", "w"},
         {{"padding", S(padding)}, {"strides", Ints({1, stride, stride, 1})}, {"data_format", S("NHWC")}});
  return g;
}
const at::Tensor k4x4 = at::arange(1, 17, at::kFloat).reshape({1, 4, 4, 1});

TEST(TfjsConv, SameStride2PadsBottomRight) {
  // TF SAME, 4x4 input, 3x3 kernel, stride 2: total pad 1, all of it at the bottom/right.
  auto out = RunGraph(ConvGraph("SAME", 2), {{"x", k4x4}}, {"y"});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], T({54, 45, 72, 54}, {1, 2, 2, 1}));
}

TEST(TfjsConv, ValidStride1) {
  auto out = RunGraph(ConvGraph("VALID", 1), {{"x", k4x4}}, {"y"});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], T({54, 63, 90, 99}, {1, 2, 2, 1}));
}

TEST(TfjsConv, SameStride1IsSymmetric) {
  auto out = RunGraph(ConvGraph("SAME", 1), {{"x", k4x4}}, {"y"});
  ASSERT_EQ(out.size(), 1u);
  // Top-left: 1+2+5+6; centre (1,1): 1+2+3+5+6+7+9+10+11.
  EXPECT_FLOAT_EQ(out[0][0][0][0][0].item<float>(), 14);
  EXPECT_FLOAT_EQ(out[0][0][1][1][0].item<float>(), 54);
  EXPECT_FLOAT_EQ(out[0][0][3][3][0].item<float>(), 11 + 12 + 15 + 16);
}

TEST(TfjsConv, DepthwiseMultiplierOrdersChannelsCTimesM) {
  TinyGraph g;
  g.Placeholder("x");
  g.Const("w", T({10, 20, 30, 40}, {1, 1, 2, 2}));  // [kh, kw, C=2, M=2]
  g.Node("y", "DepthwiseConv2dNative", {"x", "w"}, {{"padding", S("VALID")}, {"strides", Ints({1, 1, 1, 1})}});
  auto out = RunGraph(g, {{"x", T({1, 2}, {1, 1, 1, 2})}}, {"y"});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], T({10, 20, 60, 80}, {1, 1, 1, 4}));
}

TEST(TfjsConv, FusedBiasRelu6AndBatchNorm) {
  TinyGraph g;
  g.Placeholder("x");
  g.Const("w", T({1, -1}, {1, 1, 1, 2}));
  g.Const("b", T({5, 0.5}, {2}));
  g.Node("y", "_FusedConv2D", {"x", "w", "b"},
         {{"padding", S("VALID")}, {"strides", Ints({1, 1, 1, 1})}, {"num_args", I(1)},
          {"fused_ops", Strs({"BiasAdd", "Relu6"})}});
  g.Const("scale", T({2, 1}, {2}));
  g.Const("offset", T({1, 0}, {2}));
  g.Const("mean", T({0, 1}, {2}));
  g.Const("var", T({3, 0}, {2}));
  g.Node("z", "_FusedConv2D", {"x", "w", "scale", "offset", "mean", "var"},
         {{"padding", S("VALID")}, {"strides", Ints({1, 1, 1, 1})}, {"num_args", I(4)}, {"epsilon", F(1)},
          {"fused_ops", Strs({"FusedBatchNorm"})}});
  auto out = RunGraph(g, {{"x", T({3}, {1, 1, 1, 1})}}, {"y", "z"});
  ASSERT_EQ(out.size(), 2u);
  ExpectNear(out[0], T({6, 0}, {1, 1, 1, 2}));  // relu6(3+5)=6, relu6(-3+0.5)=0
  // (3-0)*2/sqrt(3+1)+1 = 4; (-3-1)*1/sqrt(0+1)+0 = -4
  ExpectNear(out[1], T({4, -4}, {1, 1, 1, 2}));
}

TEST(TfjsPool, MaxAndAvgSameExcludePadding) {
  TinyGraph g;
  g.Placeholder("x");
  auto attrs = nlohmann::json{{"padding", S("SAME")}, {"strides", Ints({1, 2, 2, 1})}, {"ksize", Ints({1, 3, 3, 1})}};
  g.Node("m", "MaxPool", {"x"}, attrs);
  g.Node("a", "AvgPool", {"x"}, attrs);
  auto out = RunGraph(g, {{"x", k4x4}}, {"m", "a"});
  ASSERT_EQ(out.size(), 2u);
  ExpectNear(out[0], T({11, 12, 15, 16}, {1, 2, 2, 1}));
  ExpectNear(out[1], T({54 / 9.0f, 45 / 6.0f, 72 / 6.0f, 54 / 4.0f}, {1, 2, 2, 1}));
}

// f(y, x) = 2y + x on a 2x2 grid is linear, so a bilinear resize gives 2*sy + sx exactly.
void CheckResize(bool align, bool half, std::vector<float> src) {
  at::Tensor x = T({0, 1, 2, 3}, {1, 2, 2, 1});
  at::Tensor s = at::tensor(src);
  at::Tensor want = (2 * s.reshape({4, 1}) + s.reshape({1, 4})).reshape({1, 4, 4, 1});
  ExpectNear(ResizeBilinearNhwc(x, 4, 4, align, half), want, 1e-6);
  TinyGraph g;
  g.Placeholder("x");
  g.Const("size", Ti({4, 4}, {2}));
  g.Node("y", "ResizeBilinear", {"x", "size"}, {{"align_corners", B(align)}, {"half_pixel_centers", B(half)}});
  auto out = RunGraph(g, {{"x", x}}, {"y"});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], want, 1e-6);
}
TEST(TfjsResize, LegacyMapping) { CheckResize(false, false, {0, 0.5, 1, 1}); }
TEST(TfjsResize, HalfPixelCenters) { CheckResize(false, true, {0, 0.25, 0.75, 1}); }
TEST(TfjsResize, AlignCorners) { CheckResize(true, false, {0, 1 / 3.0f, 2 / 3.0f, 1}); }

at::Tensor Slice(const at::Tensor& x, std::vector<int32_t> b, std::vector<int32_t> e, std::vector<int32_t> s,
                 int64_t bm, int64_t em, int64_t ellipsis, int64_t new_axis, int64_t shrink) {
  TinyGraph g;
  g.Placeholder("x", "DT_INT32");
  const int64_t n = static_cast<int64_t>(b.size());
  g.Const("b", Ti(b, {n}));
  g.Const("e", Ti(e, {n}));
  g.Const("s", Ti(s, {n}));
  g.Node("y", "StridedSlice", {"x", "b", "e", "s"},
         {{"begin_mask", I(bm)}, {"end_mask", I(em)}, {"ellipsis_mask", I(ellipsis)}, {"new_axis_mask", I(new_axis)},
          {"shrink_axis_mask", I(shrink)}});
  auto out = RunGraph(g, {{"x", x}}, {"y"});
  return out.empty() ? at::Tensor() : out[0];
}

TEST(TfjsStridedSlice, Masks) {
  const at::Tensor x = at::arange(24, at::kInt).reshape({2, 3, 4});
  using at::indexing::None;
  using at::indexing::Slice;
  using at::indexing::Ellipsis;
  ExpectEq(tfjs::Slice(x, {0, 1}, {0, 3}, {1, 1}, 1, 1, 0, 0, 0), x.index({Slice(), Slice(1, 3)}));
  ExpectEq(tfjs::Slice(x, {1}, {2}, {1}, 0, 0, 0, 0, 1), x[1]);
  ExpectEq(tfjs::Slice(x, {-1}, {0}, {-1}, 0, 1, 0, 0, 0), x.flip(0));                    // x[::-1]
  ExpectEq(tfjs::Slice(x, {0, 0}, {0, 0}, {1, 1}, 0, 0, 1, 2, 0), x.unsqueeze(3));         // x[..., None]
  ExpectEq(tfjs::Slice(x, {0, 0, 1}, {0, 0, 4}, {1, 1, 2}, 3, 3, 0, 0, 0), x.index({Slice(), Slice(), Slice(1, 4, 2)}));
  ExpectEq(tfjs::Slice(x, {0, -1}, {0, 0}, {1, -2}, 1, 3, 0, 0, 0), x.index({Slice(), at::tensor({2, 0}, at::kLong)}));  // x[:, ::-2]
  ExpectEq(tfjs::Slice(x, {0, 2}, {0, 3}, {1, 1}, 1, 1, 0, 0, 2), x.index({Slice(), 2}));  // x[:, 2]
  ExpectEq(tfjs::Slice(x, {1, -2}, {2, 100}, {1, 1}, 0, 0, 0, 0, 0), x.index({Slice(1, 2), Slice(1, 3)}));  // clamped
  ExpectEq(tfjs::Slice(x, {0, 3}, {0, 1}, {1, 1}, 1, 1, 0, 0, 0).sizes().vec() == std::vector<int64_t>{2, 0, 4}
               ? at::zeros({1}, at::kInt) : at::ones({1}, at::kInt),
           at::zeros({1}, at::kInt));  // empty interval
  (void)None;
  (void)Ellipsis;
}

TEST(TfjsTopK, TiesTakeTheLowerIndexFirst) {
  TinyGraph g;
  g.Placeholder("x");
  g.Const("k", Ti({3}, {}));
  g.Node("t", "TopKV2", {"x", "k"}, {{"sorted", B(true)}});
  auto out = RunGraph(g, {{"x", T({1, 3, 3, 2, 3}, {1, 5})}}, {"t", "t:1"});
  ASSERT_EQ(out.size(), 2u);
  ExpectNear(out[0], T({3, 3, 3}, {1, 3}));
  ExpectEq(out[1], Ti({1, 2, 4}, {1, 3}));
  // Large rows take the partial top-k path.
  at::Tensor big = at::zeros({1, 10000});
  big[0][9000] = 1;
  out = RunGraph(g, {{"x", big}}, {"t", "t:1"});
  ASSERT_EQ(out.size(), 2u);
  ExpectEq(out[1], Ti({9000, 0, 1}, {1, 3}));
}

TEST(TfjsArith, FloorDivAndFloorModOnNegatives) {
  TinyGraph g;
  g.Placeholder("a", "DT_INT32");
  g.Placeholder("b", "DT_INT32");
  g.Node("d", "FloorDiv", {"a", "b"});
  g.Node("m", "FloorMod", {"a", "b"});
  g.Placeholder("fa");
  g.Placeholder("fb");
  g.Node("fd", "FloorDiv", {"fa", "fb"});
  g.Node("fm", "FloorMod", {"fa", "fb"});
  auto out = RunGraph(g, {{"a", Ti({-7, 7, -7, 7}, {4})}, {"b", Ti({2, -2, -2, 2}, {4})},
                     {"fa", T({-7.5, 7.5}, {2})}, {"fb", T({2, -2}, {2})}},
                 {"d", "m", "fd", "fm"});
  ASSERT_EQ(out.size(), 4u);
  ExpectEq(out[0], Ti({-4, -4, 3, 3}, {4}));
  ExpectEq(out[1], Ti({1, -1, -1, 1}, {4}));
  ExpectNear(out[2], T({-4, -4}, {2}));
  ExpectNear(out[3], T({0.5, -0.5}, {2}));
}

TEST(TfjsArith, IntegerDivisionByZeroIsAnError) {
  TinyGraph g;
  g.Placeholder("a", "DT_INT32");
  g.Const("z", Ti({0}, {1}));
  g.Node("d", "FloorDiv", {"a", "z"});
  auto model = g.Build();
  ASSERT_OK(model);
  auto r = (*model)->Execute({{"a", Ti({1}, {1})}}, {"d"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("node 'd' (op 'FloorDiv')"), std::string::npos) << r.status().message();
}

TEST(TfjsGather, AxisAndBatchDims) {
  TinyGraph g;
  g.Placeholder("p");
  g.Placeholder("i", "DT_INT32");
  g.Const("ax1", Ti({1}, {}));
  g.Node("g1", "GatherV2", {"p", "i", "ax1"}, {{"batch_dims", I(0)}});
  g.Placeholder("bi", "DT_INT32");
  g.Node("g2", "GatherV2", {"p", "bi", "ax1"}, {{"batch_dims", I(1)}});
  const at::Tensor p = T({1, 2, 3, 4, 5, 6}, {2, 3});
  auto out = RunGraph(g, {{"p", p}, {"i", Ti({2, 0}, {2})}, {"bi", Ti({2, 0}, {2, 1})}}, {"g1", "g2"});
  ASSERT_EQ(out.size(), 2u);
  ExpectNear(out[0], T({3, 1, 6, 4}, {2, 2}));
  ExpectNear(out[1], T({3, 4}, {2, 1}));
  auto model = g.Build();
  ASSERT_OK(model);
  auto bad = (*model)->Execute({{"p", p}, {"i", Ti({3}, {1})}}, {"g1"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("node 'g1' (op 'GatherV2')"), std::string::npos);
}

TEST(TfjsShape, ReshapeConcatExpandDimsSqueezePadTile) {
  TinyGraph g;
  g.Placeholder("x");
  g.Const("shape", Ti({2, -1}, {2}));
  g.Node("r", "Reshape", {"x", "shape"});
  g.Const("ax", Ti({1}, {}));
  g.Node("c", "ConcatV2", {"r", "r", "ax"}, {{"N", I(2)}});
  g.Const("d0", Ti({0}, {}));
  g.Node("e", "ExpandDims", {"r", "d0"});
  g.Node("s", "Squeeze", {"e"}, {{"squeeze_dims", Ints({0})}});
  g.Const("pads", Ti({0, 0, 1, 2}, {2, 2}));
  g.Node("p", "Pad", {"r", "pads"});
  g.Const("mult", Ti({1, 2}, {2}));
  g.Node("t", "Tile", {"r", "mult"});
  g.Const("perm", Ti({1, 0}, {2}));
  g.Node("tr", "Transpose", {"r", "perm"});
  g.Node("mp", "MirrorPad", {"r", "pads"}, {{"mode", S("SYMMETRIC")}});
  const at::Tensor x = T({1, 2, 3, 4}, {4});
  auto out = RunGraph(g, {{"x", x}}, {"c", "e", "s", "p", "t", "tr", "mp"});
  ASSERT_EQ(out.size(), 7u);
  ExpectNear(out[0], T({1, 2, 1, 2, 3, 4, 3, 4}, {2, 4}));
  EXPECT_EQ(out[1].sizes(), (std::vector<int64_t>{1, 2, 2}));
  EXPECT_EQ(out[2].sizes(), (std::vector<int64_t>{2, 2}));
  ExpectNear(out[3], T({0, 1, 2, 0, 0, 0, 3, 4, 0, 0}, {2, 5}));
  ExpectNear(out[4], T({1, 2, 1, 2, 3, 4, 3, 4}, {2, 4}));
  ExpectNear(out[5], T({1, 3, 2, 4}, {2, 2}));
  ExpectNear(out[6], T({1, 1, 2, 2, 1, 3, 3, 4, 4, 3}, {2, 5}));
}

TEST(TfjsMisc, ReductionsSoftmaxCastSelectNms) {
  TinyGraph g;
  g.Placeholder("x");
  g.Const("ax", Ti({-1}, {1}));
  g.Node("mean", "Mean", {"x", "ax"}, {{"keep_dims", B(true)}});
  g.Node("sum", "Sum", {"x", "ax"}, {{"keep_dims", B(false)}});
  g.Const("ax0", Ti({1}, {}));
  g.Node("am", "ArgMax", {"x", "ax0"});
  g.Node("sm", "Softmax", {"x"});
  g.Node("ci", "Cast", {"x"}, {{"DstT", {{"type", "DT_INT32"}}}});
  g.Const("zero", T({0}, {}));
  g.Node("gt", "Greater", {"x", "zero"});
  g.Node("sel", "SelectV2", {"gt", "x", "zero"});
  auto out = RunGraph(g, {{"x", T({-1.5, 2.5, 2.5}, {1, 3})}}, {"mean", "sum", "am", "sm", "ci", "sel"});
  ASSERT_EQ(out.size(), 6u);
  ExpectNear(out[0], T({3.5f / 3}, {1, 1}));
  ExpectNear(out[1], T({3.5}, {1}));
  ExpectEq(out[2], Ti({1}, {1}));  // first of the tied maxima
  ExpectNear(out[3], at::softmax(T({-1.5, 2.5, 2.5}, {1, 3}), -1));
  ExpectEq(out[4], Ti({-1, 2, 2}, {1, 3}));  // truncation toward zero
  ExpectNear(out[5], T({0, 2.5, 2.5}, {1, 3}));

  TinyGraph n;
  n.Placeholder("boxes");
  n.Placeholder("scores");
  n.Const("max", Ti({3}, {}));
  n.Const("iou", T({0.5}, {}));
  n.Const("thr", T({0.1}, {}));
  n.Node("nms", "NonMaxSuppressionV3", {"boxes", "scores", "max", "iou", "thr"});
  // Box 1 overlaps box 0 (IoU 0.81 > 0.5); box 2 is separate; box 3 is below the threshold.
  auto r = RunGraph(n, {{"boxes", T({0, 0, 10, 10, 0, 0, 10, 9, 20, 20, 30, 30, 40, 40, 50, 50}, {4, 4})},
                   {"scores", T({0.9, 0.95, 0.5, 0.05}, {4})}},
               {"nms"});
  ASSERT_EQ(r.size(), 1u);
  ExpectEq(r[0], Ti({1, 2}, {2}));
}

TEST(TfjsExecutor, InPlaceReuseNeverTouchesRequestedOutputs) {
  TinyGraph g;
  g.Placeholder("x");
  g.Node("y", "Relu", {"x"});
  g.Node("z", "Relu6", {"y"});
  g.Node("w", "Add", {"y", "y"});
  const at::Tensor x = T({-1, 3, 9}, {3});
  auto out = RunGraph(g, {{"x", x}}, {"y", "z", "w"});
  ASSERT_EQ(out.size(), 3u);
  ExpectNear(out[0], T({0, 3, 9}, {3}));
  ExpectNear(out[1], T({0, 3, 6}, {3}));
  ExpectNear(out[2], T({0, 6, 18}, {3}));
  ExpectNear(x, T({-1, 3, 9}, {3}));  // the feed is never overwritten
}

TEST(TfjsExecutor, BatchOfThreeEqualsThreeSingleRuns) {
  // Conv (batched) -> Reshape with a baked leading 1 (batched) -> Reshape to [-1] (per image)
  // -> TopK (per image): the mix the CenterNet tail has.
  TinyGraph g;
  g.Placeholder("x", "DT_FLOAT", {1, 4, 4, 2});
  g.Const("w", T({1, 2, -1, 0.5}, {1, 1, 2, 2}));
  g.Node("c", "Conv2D", {"x", "w"}, {{"padding", S("SAME")}, {"strides", Ints({1, 1, 1, 1})}});
  g.Const("s1", Ti({1, -1, 2}, {3}));
  g.Node("r1", "Reshape", {"c", "s1"});
  g.Const("s2", Ti({-1}, {1}));
  g.Node("r2", "Reshape", {"r1", "s2"});
  g.Const("k", Ti({3}, {}));
  g.Node("t", "TopKV2", {"r2", "k"});
  auto model = g.Build();
  ASSERT_OK(model);
  at::Tensor x = at::randn({3, 4, 4, 2});
  auto all = (*model)->Execute({{"x", x}}, {"r1", "t", "t:1"});
  ASSERT_OK(all);
  EXPECT_EQ(all.value()[0].sizes(), (std::vector<int64_t>{3, 16, 2}));
  for (int64_t b = 0; b < 3; ++b) {
    auto one = (*model)->Execute({{"x", x.narrow(0, b, 1)}}, {"r1", "t", "t:1"});
    ASSERT_OK(one);
    ExpectNear(all.value()[0][b], one.value()[0][0], 1e-5);
    ExpectNear(all.value()[1][b], one.value()[1], 1e-5);
    ExpectEq(all.value()[2][b], one.value()[2]);
  }
}

}  // namespace
}  // namespace mediadex::model::tfjs
