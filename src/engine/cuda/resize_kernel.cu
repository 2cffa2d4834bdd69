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
  const int64_t x = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t y = blockIdx.y;
  if (x >= job.out_width) return;
  const int64_t top = job.rows_lo[y], bottom = job.rows_hi[y];
  const int64_t left = job.cols_lo[x], right = job.cols_hi[x];
  const float wy = job.row_weight[y], wx = job.col_weight[x];
  const uint8_t* tl = StoredPixel(job, top, left);
  const uint8_t* tr = StoredPixel(job, top, right);
  const uint8_t* bl = StoredPixel(job, bottom, left);
  const uint8_t* br = StoredPixel(job, bottom, right);
  float* o = job.out + (y * job.out_width + x) * 3;
  for (int c = 0; c < 3; ++c) {
    const float t = float(tl[c]) + (float(tr[c]) - float(tl[c])) * wx;
    const float b = float(bl[c]) + (float(br[c]) - float(bl[c])) * wx;
    o[c] = t + (b - t) * wy;
  }
}

}  // namespace

cudaError_t LaunchResizeBilinear(const ResizeJob& job, cudaStream_t stream) {
  if (job.out_height <= 0 || job.out_width <= 0) return cudaSuccess;
  constexpr unsigned kThreads = 128;
  const dim3 grid(static_cast<unsigned>((job.out_width + kThreads - 1) / kThreads), static_cast<unsigned>(job.out_height));
  ResizeBilinearKernel<<<grid, kThreads, 0, stream>>>(job);
  return cudaGetLastError();
}

}  // namespace mediadex::engine::cuda
