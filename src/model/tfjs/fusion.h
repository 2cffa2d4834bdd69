// Load-time rewrites of a TF.js graph that keep every value it computes but take fewer passes
// over memory on a GPU. Today: hard-swish, which TF writes as four ops (x * (1/6),
// x + 3, Relu6, and their product), becomes one, and where a convolution produces x alone,
// that convolution's epilogue.
#ifndef MEDIADEX_MODEL_TFJS_FUSION_H_
#define MEDIADEX_MODEL_TFJS_FUSION_H_

#include <ATen/ATen.h>

#include <string>
#include <unordered_map>

#include "model/tfjs/model_reader.h"

namespace mediadex::model::tfjs {

// The attribute that carries a fused hard-swish (a list of two floats: scale and offset) on a
// convolution or on kHardSwishOp, and the op that computes one on its own:
// (x * scale) * min(max(x + offset, 0), 6), rounded step by step as the four ops would.
inline constexpr char kHardSwishAttr[] = "_mediadex_hard_swish";
inline constexpr char kHardSwishOp[] = "_MediadexHardSwish";

struct FusionCounts {
  int hard_swish = 0;     // four ops made one
  int into_conv = 0;      // of those, folded into the convolution before them
};

// Rewrites g's hard-swish patterns in place; `weights` are its decoded constants. Node indices
// and names stay: the product node takes the fused op, so its readers and the signature still
// find it. The nodes it replaces stay too, still correct for anyone who asks for them by name,
// and are never run otherwise (a plan runs only what its outputs need).
FusionCounts FuseHardSwish(ParsedModel* g, const std::unordered_map<std::string, at::Tensor>& weights);

// (x * scale) * min(max(x + offset, 0), 6): one kernel of ours on a GPU, LibTorch's ops
// elsewhere; in place when `in_place`.
at::Tensor HardSwish(const at::Tensor& x, float scale, float offset, bool in_place);

}  // namespace mediadex::model::tfjs

#endif  // MEDIADEX_MODEL_TFJS_FUSION_H_
