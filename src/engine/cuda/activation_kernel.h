// An activation over a whole float32 tensor, for the ones no kernel before it could take as its
// epilogue (engine/gpu_runtime.h's Activate). Plain CUDA, no LibTorch headers.
#ifndef MEDIADEX_ENGINE_CUDA_ACTIVATION_KERNEL_H_
#define MEDIADEX_ENGINE_CUDA_ACTIVATION_KERNEL_H_

#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/cuda/epilogue.h"

namespace mediadex::engine::cuda {

// out[i] = ApplyEpilogue(epilogue, in[i]) for i < count; `out` may be `in`.
cudaError_t LaunchActivation(const float* in, float* out, int64_t count, const Epilogue& epilogue, cudaStream_t stream);

}  // namespace mediadex::engine::cuda

#endif  // MEDIADEX_ENGINE_CUDA_ACTIVATION_KERNEL_H_
