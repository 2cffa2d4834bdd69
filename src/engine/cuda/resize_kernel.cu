#include "engine/cuda/resize_kernel.h"

// Compiled with --fmad=false: each step rounds as the host resize (-ffp-contract=off) and TF's
// separate float32 ops do, so GPU and CPU inputs are bit-identical.

namespace mediadex::engine::cuda {
namespace {

// The stored pixel that shows at upright (row, col) under EXIF orientation `o`: the inverse
// of the flips and transposes that turn the stored photo upright.
__device__ __forceinline__ const uint8_t* StoredPixel(const ResizeJob& job, int64_t row, int64_t col) {
  int64_t r = row, c = col;
  switch (job.orientation) {
    case 2: c = job.width - 1 - col; break;
    case 3: r = job.height - 1 - row; c = job.width - 1 - col; break;
    case 4: r = job.height - 1 - row; break;
    case 5: r = col; c = row; break;
    case 6: r = job.height - 1 - col; c = row; break;
    case 7: r = job.height - 1 - col; c = job.width - 1 - row; break;
    case 8: r = col; c = job.width - 1 - row; break;
    default: break;
  }
  return job.pixels + (r * job.width + c) * 3;
}

// One thread per output pixel; blockIdx.y is the output row.
__global__ void ResizeBilinearKernel(ResizeJob job) {
  const ResizeTable& table = job.table;
  const int64_t x = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t y = blockIdx.y;
  if (x >= table.out_width) return;
  const int64_t top = table.rows_lo[y], bottom = table.rows_hi[y];
  const int64_t left = table.cols_lo[x], right = table.cols_hi[x];
  const float wy = table.row_weight[y], wx = table.col_weight[x];
  const uint8_t* tl = StoredPixel(job, top, left);
  const uint8_t* tr = StoredPixel(job, top, right);
  const uint8_t* bl = StoredPixel(job, bottom, left);
  const uint8_t* br = StoredPixel(job, bottom, right);
  float* o = job.out + (y * table.out_width + x) * 3;
  for (int c = 0; c < 3; ++c) {
    const float t = float(tl[c]) + (float(tr[c]) - float(tl[c])) * wx;
    const float b = float(bl[c]) + (float(br[c]) - float(bl[c])) * wx;
    o[c] = t + (b - t) * wy;
  }
}

// One thread per V channels of an output pixel (16-byte loads where the channels allow).
template <int V>
__global__ void ResizeBilinearNhwcKernel(TensorResizeJob job) {
  const ResizeTable& table = job.table;
  const int64_t groups = job.channels / V;
  int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= job.batch * table.out_height * table.out_width * groups) return;
  const int64_t c = (index % groups) * V;
  index /= groups;
  const int64_t x = index % table.out_width;
  index /= table.out_width;
  const int64_t y = index % table.out_height;
  const int64_t n = index / table.out_height;
  const float wy = table.row_weight[y], wx = table.col_weight[x];
  const float* image = job.in + n * job.height * job.width * job.channels + c;
  const float* top = image + table.rows_lo[y] * job.width * job.channels;
  const float* bottom = image + table.rows_hi[y] * job.width * job.channels;
  const int64_t left = table.cols_lo[x] * job.channels, right = table.cols_hi[x] * job.channels;
  float* o = job.out + ((n * table.out_height + y) * table.out_width + x) * job.channels + c;
  float tl[V], tr[V], bl[V], br[V];
  if constexpr (V == 4) {
    *reinterpret_cast<float4*>(tl) = *reinterpret_cast<const float4*>(top + left);
    *reinterpret_cast<float4*>(tr) = *reinterpret_cast<const float4*>(top + right);
    *reinterpret_cast<float4*>(bl) = *reinterpret_cast<const float4*>(bottom + left);
    *reinterpret_cast<float4*>(br) = *reinterpret_cast<const float4*>(bottom + right);
  } else {
    tl[0] = top[left], tr[0] = top[right], bl[0] = bottom[left], br[0] = bottom[right];
  }
  float result[V];
#pragma unroll
  for (int v = 0; v < V; ++v) {
    const float t = tl[v] + (tr[v] - tl[v]) * wx;
    const float b = bl[v] + (br[v] - bl[v]) * wx;
    result[v] = t + (b - t) * wy;
  }
  if constexpr (V == 4) {
    *reinterpret_cast<float4*>(o) = *reinterpret_cast<const float4*>(result);
  } else {
    o[0] = result[0];
  }
}

}  // namespace

cudaError_t LaunchResizeBilinearNhwc(const TensorResizeJob& job, cudaStream_t stream) {
  if (job.batch <= 0 || job.table.out_height <= 0 || job.table.out_width <= 0 || job.channels <= 0) return cudaSuccess;
  constexpr int kThreads = 256;
  const bool vectors = job.channels % 4 == 0 && reinterpret_cast<uintptr_t>(job.in) % 16 == 0 &&
                       reinterpret_cast<uintptr_t>(job.out) % 16 == 0;
  const int64_t threads = job.batch * job.table.out_height * job.table.out_width * (vectors ? job.channels / 4 : job.channels);
  const unsigned blocks = static_cast<unsigned>((threads + kThreads - 1) / kThreads);
  if (vectors) {
    ResizeBilinearNhwcKernel<4><<<blocks, kThreads, 0, stream>>>(job);
  } else {
    ResizeBilinearNhwcKernel<1><<<blocks, kThreads, 0, stream>>>(job);
  }
  return cudaGetLastError();
}

cudaError_t LaunchResizeBilinear(const ResizeJob& job, cudaStream_t stream) {
  if (job.table.out_height <= 0 || job.table.out_width <= 0) return cudaSuccess;
  constexpr unsigned kThreads = 128;
  const dim3 grid(static_cast<unsigned>((job.table.out_width + kThreads - 1) / kThreads),
                  static_cast<unsigned>(job.table.out_height));
  ResizeBilinearKernel<<<grid, kThreads, 0, stream>>>(job);
  return cudaGetLastError();
}

}  // namespace mediadex::engine::cuda
