// The bilinear resize kernels behind engine/gpu_runtime.h (a photo into a model's input, and a
// network's float NHWC activations), in plain CUDA (no LibTorch headers, so nvcc compiles them
// in seconds). Built only where CMake found a CUDA LibTorch.
#ifndef MEDIADEX_ENGINE_CUDA_RESIZE_KERNEL_H_
#define MEDIADEX_ENGINE_CUDA_RESIZE_KERNEL_H_

#include <cuda_runtime_api.h>

#include <cstdint>

namespace mediadex::engine::cuda {

// Per output row (out_height of them) and column (out_width): the two source rows and columns
// read and the weight of the second. All pointers in the memory of the GPU that runs the kernel.
struct ResizeTable {
  const int64_t *rows_lo = nullptr, *rows_hi = nullptr, *cols_lo = nullptr, *cols_hi = nullptr;
  const float *row_weight = nullptr, *col_weight = nullptr;
  int64_t out_height = 0, out_width = 0;
};

// One photo.
struct ResizeJob {
  const uint8_t* pixels = nullptr;  // [height, width, 3] as decoded, before EXIF orientation
  int64_t height = 0, width = 0;
  int orientation = 1;  // EXIF 1..8: the table addresses the upright photo
  ResizeTable table;
  float* out = nullptr;  // [out_height, out_width, 3]
};

// Queues the resize on `stream`; returns the launch's error, if any.
cudaError_t LaunchResizeBilinear(const ResizeJob& job, cudaStream_t stream);

// A batch of float32 NHWC activations: out[n, y, x, c] mixes the four input pixels that the
// table gives for row y and column x, in TF's order (top and bottom along x, then along y).
struct TensorResizeJob {
  const float* in = nullptr;  // [batch, height, width, channels]
  int64_t batch = 0, height = 0, width = 0, channels = 0;
  ResizeTable table;
  float* out = nullptr;  // [batch, out_height, out_width, channels]
};

cudaError_t LaunchResizeBilinearNhwc(const TensorResizeJob& job, cudaStream_t stream);

}  // namespace mediadex::engine::cuda

#endif  // MEDIADEX_ENGINE_CUDA_RESIZE_KERNEL_H_
