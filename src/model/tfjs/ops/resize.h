// tf.image.resizeBilinear exactly as TensorFlow (and TF.js) compute it, for NHWC tensors.
// Used by the ResizeBilinear op and by detectors' preprocessing, so both agree bit for bit.
#ifndef MEDIADEX_MODEL_TFJS_OPS_RESIZE_H_
#define MEDIADEX_MODEL_TFJS_OPS_RESIZE_H_

#include <torch/types.h>

namespace mediadex::model::tfjs {

// x: [N, H, W, C] float. Returns [N, out_h, out_w, C] float (same dtype and device as x).
// align_corners / half_pixel_centers follow TF's attributes of the same names
// (both false = TF's legacy mapping src = dst * in / out, tf.image.resizeBilinear's default).
torch::Tensor ResizeBilinearNhwc(const torch::Tensor& x, int64_t out_h, int64_t out_w,
                                 bool align_corners, bool half_pixel_centers);

}  // namespace mediadex::model::tfjs

#endif  // MEDIADEX_MODEL_TFJS_OPS_RESIZE_H_
