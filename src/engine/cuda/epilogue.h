// What our GPU kernels apply to each value before they write it: the activation that follows a
// convolution in the graph, fused into the kernel so it costs no pass of its own over memory.
// Plain C++ (engine/gpu_runtime.h includes it); the device side only under nvcc.
#ifndef MEDIADEX_ENGINE_CUDA_EPILOGUE_H_
#define MEDIADEX_ENGINE_CUDA_EPILOGUE_H_

namespace mediadex::engine {

struct Epilogue {
  enum class Kind { kNone, kRelu, kRelu6, kHardSwish };
  Kind kind = Kind::kNone;
  // kHardSwish: (y * scale) * min(max(y + offset, 0), 6), rounded step by step as the graph's
  // Mul, Add, Relu6 and Mul would (TF writes hard-swish as those four ops; scale 1/6, offset 3).
  float scale = 1.0f / 6.0f, offset = 3.0f;
};

#if defined(__CUDACC__)
__device__ __forceinline__ float ApplyEpilogue(const Epilogue& e, float y) {
  switch (e.kind) {
    case Epilogue::Kind::kRelu: return fmaxf(y, 0.0f);
    case Epilogue::Kind::kRelu6: return fminf(fmaxf(y, 0.0f), 6.0f);
    case Epilogue::Kind::kHardSwish: return __fmul_rn(__fmul_rn(y, e.scale), fminf(fmaxf(__fadd_rn(y, e.offset), 0.0f), 6.0f));
    case Epilogue::Kind::kNone: break;
  }
  return y;
}
#endif

}  // namespace mediadex::engine

#endif  // MEDIADEX_ENGINE_CUDA_EPILOGUE_H_
