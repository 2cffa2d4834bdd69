// mediadex's own CUDA kernels (label gpu) against LibTorch's reference ops on the same GPU.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>

#include "engine/gpu_runtime.h"

namespace mediadex::engine {
namespace {

struct DepthwiseCase {
  int64_t channels, kernel, stride, dilation, pad;
  bool bias;
  bool misaligned;  // input at an odd float offset: the one-channel-per-thread path
};

std::string Describe(const DepthwiseCase& c) {
  return "C=" + std::to_string(c.channels) + " k=" + std::to_string(c.kernel) + " s=" + std::to_string(c.stride) +
         " d=" + std::to_string(c.dilation) + " p=" + std::to_string(c.pad) + (c.bias ? " bias" : "") +
         (c.misaligned ? " misaligned" : "");
}

// Every shape the executor sends it (3x3 and 5x5, strides 1 and 2, dilation, any padding,
// channel counts with and without a multiple of 4) gives at::conv2d's answer.
TEST(GpuKernelsTest, DepthwiseConvolutionMatchesLibTorch) {
  ASSERT_TRUE(HasDepthwiseKernel());
  const auto on_gpu = at::TensorOptions().dtype(at::kFloat).device(at::kCUDA, 0);
  const DepthwiseCase cases[] = {
      {32, 3, 1, 1, 1, true, false}, {96, 3, 2, 1, 1, true, false}, {8, 5, 1, 1, 2, false, false},
      {24, 5, 2, 1, 2, true, false}, {16, 3, 1, 2, 2, true, false}, {3, 3, 1, 1, 1, true, false},
      {1, 3, 2, 1, 0, false, false}, {12, 3, 1, 1, 0, true, true},  {40, 3, 2, 1, 1, true, true},
  };
  for (const auto& c : cases) {
    at::manual_seed(7);
    at::Tensor x = at::randn({2, 17, 23, c.channels}, on_gpu);
    if (c.misaligned) x = at::randn({x.numel() + 1}, on_gpu).narrow(0, 1, x.numel()).view(x.sizes());
    const at::Tensor weight = at::randn({c.channels, 1, c.kernel, c.kernel}, on_gpu);
    const at::Tensor bias = c.bias ? at::randn({c.channels}, on_gpu) : at::Tensor();
    const at::Tensor mine =
        DepthwiseConv2dNhwc(x, weight, bias, c.stride, c.stride, c.pad, c.pad, c.dilation, c.dilation);
    const at::Tensor want = at::conv2d(x.permute({0, 3, 1, 2}).contiguous(), weight, bias, {c.stride, c.stride},
                                       {c.pad, c.pad}, {c.dilation, c.dilation}, c.channels)
                                .permute({0, 2, 3, 1});
    ASSERT_EQ(mine.sizes(), want.sizes()) << Describe(c);
    EXPECT_TRUE(at::allclose(mine, want, 1e-4, 1e-4)) << Describe(c) << ": max difference "
                                                      << (mine - want).abs().max().item<float>();
  }
}

}  // namespace
}  // namespace mediadex::engine
