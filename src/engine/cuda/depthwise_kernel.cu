#include "engine/cuda/depthwise_kernel.h"

// One block per output row (n, oh); its threads walk the row's pixels and channel groups, so a
// warp reads neighbouring channels of one pixel (coalesced: NHWC keeps channels together) and
// neighbouring warps reuse each other's input through the caches. V channels per thread: 4
// (16-byte loads) where the channel count and the pointers allow, else 1. Memory-bound.

namespace mediadex::engine::cuda {
namespace {

template <int V>
struct Vec;
template <>
struct Vec<4> {
  __device__ static void Add(float* acc, const float* x, float w0, float w1, float w2, float w3) {
    const float4 v = *reinterpret_cast<const float4*>(x);
    acc[0] += v.x * w0;
    acc[1] += v.y * w1;
    acc[2] += v.z * w2;
    acc[3] += v.w * w3;
  }
  __device__ static void Store(float* y, const float* acc) {
    *reinterpret_cast<float4*>(y) = make_float4(acc[0], acc[1], acc[2], acc[3]);
  }
};

template <int V>
__global__ void DepthwiseNhwcKernel(DepthwiseJob job) {
  const int row = blockIdx.x;  // n * out_height + oh
  const int n = row / job.out_height, oh = row % job.out_height;
  const int groups = job.channels / V;
  const int taps = job.kernel_h * job.kernel_w;
  const int64_t in_row = static_cast<int64_t>(job.in_width) * job.channels;
  const float* x_image = job.x + static_cast<int64_t>(n) * job.in_height * in_row;
  float* y_row = job.y + static_cast<int64_t>(row) * job.out_width * job.channels;
  for (int item = threadIdx.x; item < job.out_width * groups; item += blockDim.x) {
    const int ow = item / groups, c = (item % groups) * V;
    float acc[V];
    for (int v = 0; v < V; ++v) acc[v] = job.bias != nullptr ? job.bias[c + v] : 0.0f;
    for (int i = 0; i < job.kernel_h; ++i) {
      const int ih = oh * job.stride_h - job.pad_h + i * job.dilation_h;
      if (ih < 0 || ih >= job.in_height) continue;
      const float* x_row = x_image + ih * in_row;
      for (int j = 0; j < job.kernel_w; ++j) {
        const int iw = ow * job.stride_w - job.pad_w + j * job.dilation_w;
        if (iw < 0 || iw >= job.in_width) continue;
        const float* x = x_row + static_cast<int64_t>(iw) * job.channels + c;
        const float* w = job.weight + c * taps + i * job.kernel_w + j;  // weight[c + v] is w[v * taps]
        if constexpr (V == 4) {
          Vec<4>::Add(acc, x, __ldg(w), __ldg(w + taps), __ldg(w + 2 * taps), __ldg(w + 3 * taps));
        } else {
          acc[0] += __ldg(x) * __ldg(w);
        }
      }
    }
    float* y = y_row + static_cast<int64_t>(ow) * job.channels + c;
    if constexpr (V == 4) {
      Vec<4>::Store(y, acc);
    } else {
      y[0] = acc[0];
    }
  }
}

bool Aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

}  // namespace

cudaError_t LaunchDepthwiseNhwc(const DepthwiseJob& job, cudaStream_t stream) {
  const int rows = job.batch * job.out_height;
  if (rows <= 0 || job.out_width <= 0 || job.channels <= 0) return cudaSuccess;
  constexpr int kThreads = 256;
  if (job.channels % 4 == 0 && Aligned16(job.x) && Aligned16(job.y)) {
    DepthwiseNhwcKernel<4><<<rows, kThreads, 0, stream>>>(job);
  } else {
    DepthwiseNhwcKernel<1><<<rows, kThreads, 0, stream>>>(job);
  }
  return cudaGetLastError();
}

}  // namespace mediadex::engine::cuda
