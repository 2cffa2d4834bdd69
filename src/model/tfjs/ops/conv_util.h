// TF padding arithmetic shared by convolution and pooling (NHWC).
#ifndef MEDIADEX_MODEL_TFJS_OPS_CONV_UTIL_H_
#define MEDIADEX_MODEL_TFJS_OPS_CONV_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "model/tfjs/model_reader.h"

namespace mediadex::model::tfjs {

enum class PadMode { kSame, kValid, kExplicit };

struct Window2d {
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  PadMode pad = PadMode::kValid;
  int64_t explicit_pad[4] = {0, 0, 0, 0};  // top, bottom, left, right
};

// Reads strides / dilations / padding / explicit_paddings (NHWC order) of a node.
Window2d ReadWindow(const NodeDef& node, const char* stride_key);

struct Pads {
  int64_t top, bottom, left, right;
};
// TF's padding for an input of h x w and kernel kh x kw (before dilation).
Pads ComputePads(const Window2d& w, int64_t h, int64_t wd, int64_t kh, int64_t kw);

}  // namespace mediadex::model::tfjs

#endif  // MEDIADEX_MODEL_TFJS_OPS_CONV_UTIL_H_
