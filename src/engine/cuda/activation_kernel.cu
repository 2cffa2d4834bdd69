#include "engine/cuda/activation_kernel.h"

namespace mediadex::engine::cuda {
namespace {

// Four values a thread (16-byte loads and stores); the tail, if any, one a thread.
__global__ void ActivationKernel4(const float4* in, float4* out, int64_t count4, Epilogue e) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= count4) return;
  const float4 v = in[i];
  out[i] = make_float4(ApplyEpilogue(e, v.x), ApplyEpilogue(e, v.y), ApplyEpilogue(e, v.z), ApplyEpilogue(e, v.w));
}

__global__ void ActivationKernel1(const float* in, float* out, int64_t count, Epilogue e) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < count) out[i] = ApplyEpilogue(e, in[i]);
}

constexpr int kThreads = 256;

unsigned Blocks(int64_t threads) { return static_cast<unsigned>((threads + kThreads - 1) / kThreads); }

}  // namespace

cudaError_t LaunchActivation(const float* in, float* out, int64_t count, const Epilogue& epilogue, cudaStream_t stream) {
  if (count <= 0) return cudaSuccess;
  int64_t done = 0;
  if (reinterpret_cast<uintptr_t>(in) % 16 == 0 && reinterpret_cast<uintptr_t>(out) % 16 == 0 && count >= 4) {
    const int64_t count4 = count / 4;
    ActivationKernel4<<<Blocks(count4), kThreads, 0, stream>>>(reinterpret_cast<const float4*>(in),
                                                              reinterpret_cast<float4*>(out), count4, epilogue);
    done = count4 * 4;
  }
  if (done < count) ActivationKernel1<<<Blocks(count - done), kThreads, 0, stream>>>(in + done, out + done, count - done, epilogue);
  return cudaGetLastError();
}

}  // namespace mediadex::engine::cuda
