// The depthwise convolution kernel behind engine/gpu_runtime.h's DepthwiseConv2dNhwc, in plain
// CUDA (no LibTorch headers). Built only where CMake found a CUDA LibTorch.
#ifndef MEDIADEX_ENGINE_CUDA_DEPTHWISE_KERNEL_H_
#define MEDIADEX_ENGINE_CUDA_DEPTHWISE_KERNEL_H_

#include <cuda_runtime_api.h>

#include <cstdint>

namespace mediadex::engine::cuda {

// y[n, oh, ow, c] = bias[c] + sum over (i, j) of x[n, oh*stride - pad + i*dilation, ..., c] *
// weight[c, 0, i, j]; taps outside the input read zero. float32, contiguous, on one GPU.
struct DepthwiseJob {
  const float* x = nullptr;       // [batch, in_height, in_width, channels]
  const float* weight = nullptr;  // [channels, 1, kernel_h, kernel_w]
  const float* bias = nullptr;    // [channels] or nullptr
  float* y = nullptr;             // [batch, out_height, out_width, channels]
  int batch = 0, in_height = 0, in_width = 0, channels = 0, out_height = 0, out_width = 0;
  int kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
};

// Queues the convolution on `stream`; returns the launch's error, if any.
cudaError_t LaunchDepthwiseNhwc(const DepthwiseJob& job, cudaStream_t stream);

}  // namespace mediadex::engine::cuda

#endif  // MEDIADEX_ENGINE_CUDA_DEPTHWISE_KERNEL_H_
