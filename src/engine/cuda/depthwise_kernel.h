// The depthwise convolution kernels behind engine/gpu_runtime.h's DepthwiseConv2dNhwc, in plain
// CUDA (no LibTorch headers). Built only where CMake found a CUDA LibTorch.
#ifndef MEDIADEX_ENGINE_CUDA_DEPTHWISE_KERNEL_H_
#define MEDIADEX_ENGINE_CUDA_DEPTHWISE_KERNEL_H_

#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/cuda/epilogue.h"

namespace mediadex::engine::cuda {

// y[n, oh, ow, c] = epilogue(bias[c] + sum over (i, j) of
//   x[n, oh*stride_h - pad_top + i*dilation_h, ow*stride_w - pad_left + j*dilation_w, c] * weight[i, j, c]);
// taps outside the input read zero (so any padding at the bottom and right is implied by the
// output size). float32, contiguous, on one GPU.
struct DepthwiseJob {
  const float* x = nullptr;       // [batch, in_height, in_width, channels]
  const float* weight = nullptr;  // [kernel_h, kernel_w, channels]: TF's layout, a tap's channels together
  const float* bias = nullptr;    // [channels] or nullptr
  float* y = nullptr;             // [batch, out_height, out_width, channels]
  int batch = 0, in_height = 0, in_width = 0, channels = 0, out_height = 0, out_width = 0;
  int kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, pad_top = 0, pad_left = 0, dilation_h = 1, dilation_w = 1;
  Epilogue epilogue;
};

// Queues the convolution on `stream`; returns the launch's error, if any.
cudaError_t LaunchDepthwiseNhwc(const DepthwiseJob& job, cudaStream_t stream);

}  // namespace mediadex::engine::cuda

#endif  // MEDIADEX_ENGINE_CUDA_DEPTHWISE_KERNEL_H_
