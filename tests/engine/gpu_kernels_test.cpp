// mediadex's own CUDA kernels (label gpu) against LibTorch's reference ops on the same GPU.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>

#include "engine/gpu_runtime.h"

namespace mediadex::engine {
namespace {

struct DepthwiseCase {
  int64_t channels, kernel, stride, dilation, pad_top, pad_bottom;  // left and right pad as top and bottom
  bool bias;
  bool misaligned;  // input at an odd float offset: the one-channel-per-thread path
};

std::string Describe(const DepthwiseCase& c) {
  return "C=" + std::to_string(c.channels) + " k=" + std::to_string(c.kernel) + " s=" + std::to_string(c.stride) +
         " d=" + std::to_string(c.dilation) + " pads=" + std::to_string(c.pad_top) + "," + std::to_string(c.pad_bottom) +
         (c.bias ? " bias" : "") + (c.misaligned ? " misaligned" : "");
}

const auto kOnGpu = at::TensorOptions().dtype(at::kFloat).device(at::kCUDA, 0);

// Every shape the executor sends it (3x3 and 5x5, strides 1 and 2, dilation, TF's uneven SAME
// padding, channel counts with and without a multiple of 4 or 2) gives at::conv2d's answer,
// with each epilogue applied as LibTorch's ops would.
TEST(GpuKernelsTest, DepthwiseConvolutionMatchesLibTorch) {
  ASSERT_TRUE(HasCudaKernels());
  const DepthwiseCase cases[] = {
      {32, 3, 1, 1, 1, 1, true, false}, {96, 3, 2, 1, 0, 1, true, false}, {8, 5, 1, 1, 2, 2, false, false},
      {24, 5, 2, 1, 1, 2, true, false}, {16, 3, 1, 2, 2, 2, true, false}, {3, 3, 1, 1, 1, 1, true, false},
      {1, 3, 2, 1, 0, 0, false, false}, {12, 3, 1, 1, 0, 0, true, true},  {40, 3, 2, 1, 1, 1, true, true},
      {18, 5, 1, 1, 2, 2, true, false}, {22, 5, 2, 1, 1, 2, true, false}, {64, 3, 2, 1, 0, 1, true, false},
  };
  using Kind = Epilogue::Kind;
  for (const auto& c : cases) {
    at::manual_seed(7);
    at::Tensor x = at::randn({2, 17, 23, c.channels}, kOnGpu);
    if (c.misaligned) x = at::randn({x.numel() + 1}, kOnGpu).narrow(0, 1, x.numel()).view(x.sizes());
    const at::Tensor weight = at::randn({c.channels, 1, c.kernel, c.kernel}, kOnGpu);
    const at::Tensor weight_hwc = weight.reshape({c.channels, c.kernel, c.kernel}).permute({1, 2, 0}).contiguous();
    const at::Tensor bias = c.bias ? at::randn({c.channels}, kOnGpu) : at::Tensor();
    const DepthwiseWindow window{c.stride, c.stride, c.dilation, c.dilation, c.pad_top, c.pad_bottom, c.pad_top, c.pad_bottom};
    const at::Tensor padded = at::constant_pad_nd(x.permute({0, 3, 1, 2}), {c.pad_top, c.pad_bottom, c.pad_top, c.pad_bottom}, 0);
    const at::Tensor want = at::conv2d(padded, weight, bias, {c.stride, c.stride}, at::IntArrayRef{0, 0}, {c.dilation, c.dilation}, c.channels)
                                .permute({0, 2, 3, 1});
    for (const Epilogue& epilogue : {Epilogue{}, Epilogue{Kind::kRelu}, Epilogue{Kind::kRelu6}, Epilogue{Kind::kHardSwish}}) {
      const at::Tensor mine = DepthwiseConv2dNhwc(x, weight_hwc, bias, window, epilogue);
      at::Tensor expected = want;
      if (epilogue.kind == Kind::kRelu) expected = want.relu();
      if (epilogue.kind == Kind::kRelu6) expected = want.clamp(0, 6);
      if (epilogue.kind == Kind::kHardSwish) expected = want * (1.0f / 6.0f) * (want + 3.0f).clamp(0, 6);
      ASSERT_EQ(mine.sizes(), expected.sizes()) << Describe(c);
      EXPECT_TRUE(at::allclose(mine, expected, 1e-4, 1e-4))
          << Describe(c) << " epilogue " << static_cast<int>(epilogue.kind) << ": max difference "
          << (mine - expected).abs().max().item<float>();
    }
  }
}

// TF's resize of activations by one kernel is what the executor's LibTorch ops compute (the
// same float steps in the same order), bit for bit, with and without 16-byte vectors.
TEST(GpuKernelsTest, ActivationResizeIsTheLibTorchOpsBitForBit) {
  ASSERT_TRUE(HasCudaKernels());
  for (const int64_t channels : {64, 6}) {
    at::manual_seed(11);
    const at::Tensor x = at::randn({3, 16, 12, channels}, kOnGpu);
    const int64_t out_h = 32, out_w = 25;
    auto axis = [&](int64_t in, int64_t out, at::Tensor* lo, at::Tensor* hi, at::Tensor* weight) {
      const at::Tensor src = at::arange(out, kOnGpu) * (static_cast<float>(in) / static_cast<float>(out));
      const at::Tensor f = src.floor();
      *lo = f.clamp(0, in - 1).to(at::kLong);
      *hi = src.ceil().clamp_max(in - 1).to(at::kLong);
      *weight = src - f;
    };
    ResizeTaps taps;
    axis(16, out_h, &taps.rows_lo, &taps.rows_hi, &taps.row_weight);
    axis(12, out_w, &taps.cols_lo, &taps.cols_hi, &taps.col_weight);
    const at::Tensor mine = ResizeBilinearNhwc(x, taps);
    const at::Tensor top = x.index_select(1, taps.rows_lo), bottom = x.index_select(1, taps.rows_hi);
    const at::Tensor wx = taps.col_weight.reshape({1, 1, out_w, 1}), wy = taps.row_weight.reshape({1, out_h, 1, 1});
    const at::Tensor tl = top.index_select(2, taps.cols_lo), tr = top.index_select(2, taps.cols_hi);
    const at::Tensor bl = bottom.index_select(2, taps.cols_lo), br = bottom.index_select(2, taps.cols_hi);
    const at::Tensor t = tl + (tr - tl) * wx, b = bl + (br - bl) * wx;
    EXPECT_TRUE(at::equal(mine, t + (b - t) * wy)) << "C=" << channels;
  }
}

// Hard-swish in one pass is the graph's four ops, bit for bit, in place or not, on lengths with
// and without a tail after the 16-byte vectors.
TEST(GpuKernelsTest, HardSwishIsTheFourOpsBitForBit) {
  ASSERT_TRUE(HasCudaKernels());
  const Epilogue hard_swish{Epilogue::Kind::kHardSwish, 1.0f / 6.0f, 3.0f};
  for (const int64_t n : {4096, 1027}) {
    at::manual_seed(5);
    const at::Tensor x = at::randn({n}, kOnGpu) * 5;
    const at::Tensor want = (x * at::tensor(1.0f / 6.0f, kOnGpu)) * (x + at::tensor(3.0f, kOnGpu)).clamp(0, 6);
    EXPECT_TRUE(at::equal(Activate(x, hard_swish, /*in_place=*/false), want)) << n;
    at::Tensor copy = x.clone();
    Activate(copy, hard_swish, /*in_place=*/true);
    EXPECT_TRUE(at::equal(copy, want)) << n;
  }
}

}  // namespace
}  // namespace mediadex::engine
