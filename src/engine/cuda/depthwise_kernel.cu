#include "engine/cuda/depthwise_kernel.h"

// Memory-bound: a MobileNet's depthwise layers read and write whole activations for 9 or 25
// multiply-adds a value. Each thread computes V neighbouring channels (one 16-, 8- or 4-byte
// load: NHWC keeps a pixel's channels together, so a warp's loads are coalesced) of P
// neighbouring output pixels of one row, and loads each input pixel of its window once for all
// P of them. Square 3x3 and 5x5 windows at stride 1 or 2 (every depthwise layer of the
// MobileNets) have kernels unrolled for their shape; other windows take a generic kernel.
// Every kernel sums bias first, then the taps row by row, so all give the same bits.

namespace mediadex::engine::cuda {
namespace {

template <int V>
struct Floats {
  float v[V];
};

template <int V>
__device__ __forceinline__ Floats<V> Load(const float* p) {
  Floats<V> f;
  if constexpr (V == 4) {
    const float4 q = *reinterpret_cast<const float4*>(p);
    f.v[0] = q.x, f.v[1] = q.y, f.v[2] = q.z, f.v[3] = q.w;
  } else if constexpr (V == 2) {
    const float2 q = *reinterpret_cast<const float2*>(p);
    f.v[0] = q.x, f.v[1] = q.y;
  } else {
    f.v[0] = *p;
  }
  return f;
}

template <int V>
__device__ __forceinline__ Floats<V> LoadConstant(const float* p) {
  Floats<V> f;
#pragma unroll
  for (int v = 0; v < V; ++v) f.v[v] = __ldg(p + v);
  return f;
}

template <int V>
__device__ __forceinline__ void Store(float* p, const Floats<V>& f) {
  if constexpr (V == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(f.v[0], f.v[1], f.v[2], f.v[3]);
  } else if constexpr (V == 2) {
    *reinterpret_cast<float2*>(p) = make_float2(f.v[0], f.v[1]);
  } else {
    *p = f.v[0];
  }
}

// Which channels and output pixels a thread computes: its V channels (group g), P pixels of one
// output row from ow0. False past the end.
struct Work {
  int n, oh, ow0, c;
};
template <int V, int P>
__device__ __forceinline__ bool FindWork(const DepthwiseJob& job, Work* w) {
  const int groups = job.channels / V;
  const int strips = (job.out_width + P - 1) / P;
  int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= static_cast<int64_t>(job.batch) * job.out_height * strips * groups) return false;
  w->c = static_cast<int>(index % groups) * V;
  index /= groups;
  w->ow0 = static_cast<int>(index % strips) * P;
  index /= strips;
  w->oh = static_cast<int>(index % job.out_height);
  w->n = static_cast<int>(index / job.out_height);
  return true;
}

template <int V, int P>
__device__ __forceinline__ void Finish(const DepthwiseJob& job, const Work& w, Floats<V> (&acc)[P]) {
  float* y = job.y + ((static_cast<int64_t>(w.n) * job.out_height + w.oh) * job.out_width + w.ow0) * job.channels + w.c;
#pragma unroll
  for (int p = 0; p < P; ++p) {
    if (w.ow0 + p >= job.out_width) break;
#pragma unroll
    for (int v = 0; v < V; ++v) acc[p].v[v] = ApplyEpilogue(job.epilogue, acc[p].v[v]);
    Store<V>(y + static_cast<int64_t>(p) * job.channels, acc[p]);
  }
}

template <int V, int P>
__device__ __forceinline__ void StartWithBias(const DepthwiseJob& job, int c, Floats<V> (&acc)[P]) {
  Floats<V> bias;
#pragma unroll
  for (int v = 0; v < V; ++v) bias.v[v] = 0.0f;
  if (job.bias != nullptr) bias = LoadConstant<V>(job.bias + c);
#pragma unroll
  for (int p = 0; p < P; ++p) acc[p] = bias;
}

// A KxK window at stride S, dilation 1: the row's (P-1)*S+K input pixels are loaded once.
template <int V, int K, int S, int P>
__global__ void DepthwiseSquareKernel(DepthwiseJob job) {
  Work w;
  if (!FindWork<V, P>(job, &w)) return;
  Floats<V> acc[P];
  StartWithBias<V, P>(job, w.c, acc);
  constexpr int kColumns = (P - 1) * S + K;
  const int iw0 = w.ow0 * S - job.pad_left;
  const int64_t row_floats = static_cast<int64_t>(job.in_width) * job.channels;
  for (int i = 0; i < K; ++i) {
    const int ih = w.oh * S - job.pad_top + i;
    if (ih < 0 || ih >= job.in_height) continue;
    const float* row = job.x + (static_cast<int64_t>(w.n) * job.in_height + ih) * row_floats + w.c;
    Floats<V> xs[kColumns];
#pragma unroll
    for (int col = 0; col < kColumns; ++col) {
      const int iw = iw0 + col;
      if (iw >= 0 && iw < job.in_width) {
        xs[col] = Load<V>(row + static_cast<int64_t>(iw) * job.channels);
      } else {
#pragma unroll
        for (int v = 0; v < V; ++v) xs[col].v[v] = 0.0f;
      }
    }
#pragma unroll
    for (int j = 0; j < K; ++j) {
      const Floats<V> tap = LoadConstant<V>(job.weight + (i * K + j) * job.channels + w.c);
#pragma unroll
      for (int p = 0; p < P; ++p) {
#pragma unroll
        for (int v = 0; v < V; ++v) acc[p].v[v] += xs[p * S + j].v[v] * tap.v[v];
      }
    }
  }
  Finish<V, P>(job, w, acc);
}

// Any window: one output pixel a thread, taps outside the input skipped.
template <int V>
__global__ void DepthwiseAnyKernel(DepthwiseJob job) {
  Work w;
  if (!FindWork<V, 1>(job, &w)) return;
  Floats<V> acc[1];
  StartWithBias<V, 1>(job, w.c, acc);
  const int64_t row_floats = static_cast<int64_t>(job.in_width) * job.channels;
  for (int i = 0; i < job.kernel_h; ++i) {
    const int ih = w.oh * job.stride_h - job.pad_top + i * job.dilation_h;
    if (ih < 0 || ih >= job.in_height) continue;
    const float* row = job.x + (static_cast<int64_t>(w.n) * job.in_height + ih) * row_floats + w.c;
    for (int j = 0; j < job.kernel_w; ++j) {
      const int iw = w.ow0 * job.stride_w - job.pad_left + j * job.dilation_w;
      if (iw < 0 || iw >= job.in_width) continue;
      const Floats<V> x = Load<V>(row + static_cast<int64_t>(iw) * job.channels);
      const Floats<V> tap = LoadConstant<V>(job.weight + (i * job.kernel_w + j) * job.channels + w.c);
#pragma unroll
      for (int v = 0; v < V; ++v) acc[0].v[v] += x.v[v] * tap.v[v];
    }
  }
  Finish<V, 1>(job, w, acc);
}

constexpr int kPixelsPerThread = 4;
constexpr int kThreads = 128;

template <int V, int P>
unsigned Blocks(const DepthwiseJob& job) {
  const int64_t threads = static_cast<int64_t>(job.batch) * job.out_height * ((job.out_width + P - 1) / P) * (job.channels / V);
  return static_cast<unsigned>((threads + kThreads - 1) / kThreads);
}

template <int V>
cudaError_t Launch(const DepthwiseJob& job, cudaStream_t stream) {
  constexpr int P = kPixelsPerThread;
  const bool square = job.kernel_h == job.kernel_w && job.stride_h == job.stride_w && job.dilation_h == 1 &&
                      job.dilation_w == 1 && (job.stride_h == 1 || job.stride_h == 2) &&
                      (job.kernel_h == 3 || job.kernel_h == 5);
  if (!square) {
    DepthwiseAnyKernel<V><<<Blocks<V, 1>(job), kThreads, 0, stream>>>(job);
  } else if (job.kernel_h == 3 && job.stride_h == 1) {
    DepthwiseSquareKernel<V, 3, 1, P><<<Blocks<V, P>(job), kThreads, 0, stream>>>(job);
  } else if (job.kernel_h == 3) {
    DepthwiseSquareKernel<V, 3, 2, P><<<Blocks<V, P>(job), kThreads, 0, stream>>>(job);
  } else if (job.stride_h == 1) {
    DepthwiseSquareKernel<V, 5, 1, P><<<Blocks<V, P>(job), kThreads, 0, stream>>>(job);
  } else {
    DepthwiseSquareKernel<V, 5, 2, P><<<Blocks<V, P>(job), kThreads, 0, stream>>>(job);
  }
  return cudaGetLastError();
}

bool Aligned(const void* p, int bytes) { return p == nullptr || reinterpret_cast<uintptr_t>(p) % bytes == 0; }

bool AllAligned(const DepthwiseJob& job, int bytes) {
  return Aligned(job.x, bytes) && Aligned(job.y, bytes) && Aligned(job.weight, bytes) && Aligned(job.bias, bytes);
}

}  // namespace

cudaError_t LaunchDepthwiseNhwc(const DepthwiseJob& job, cudaStream_t stream) {
  if (job.batch <= 0 || job.out_height <= 0 || job.out_width <= 0 || job.channels <= 0) return cudaSuccess;
  if (job.channels % 4 == 0 && AllAligned(job, 16)) return Launch<4>(job, stream);
  if (job.channels % 2 == 0 && AllAligned(job, 8)) return Launch<2>(job, stream);
  return Launch<1>(job, stream);
}

}  // namespace mediadex::engine::cuda
