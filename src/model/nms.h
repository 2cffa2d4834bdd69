// Non-maximum suppression on the host: detections per image are few (<= a few thousand), so a
// careful CPU loop beats a device round trip.
#ifndef MEDIADEX_MODEL_NMS_H_
#define MEDIADEX_MODEL_NMS_H_

#include <vector>

#include "core/detection.h"

namespace mediadex::model {

struct NmsOptions {
  float iou_threshold = 0.4f;  // overlap at which a box is suppressed (see NonMaxSuppression)
  float score_min = 0.2f;      // only boxes scoring > this are candidates (as TF.js)
  int max_output = 10;         // keep at most this many (<= 0: no limit)
  bool per_class = false;      // true: boxes only suppress boxes of the same class (YOLO);
                               // false: class-agnostic, as tf.image.nonMaxSuppression
};

// Greedy NMS: visit the boxes scoring > score_min by descending score (ties: lower index
// first) and keep one unless it overlaps an already-kept box too much. Returns indices into
// `boxes`, best first. `class_ids` may be empty when per_class is false.
//
// "Too much" follows the reference each mode reproduces:
//   class-agnostic: IoU >= iou_threshold, as TF.js's nonMaxSuppression kernel (the CenterNet
//                   reference runs through it);
//   per_class:      IoU >  iou_threshold, as torchvision.ops.nms under Ultralytics' YOLO NMS.
// Corners are normalised with min/max first, as TF.js does, so x2 < x1 names the same box.
// A box of zero width or height has IoU 0 with everything (TF.js's rule), so with a
// threshold > 0 it is never suppressed and never suppresses. NaN scores are never candidates.
std::vector<int> NonMaxSuppression(const std::vector<Box>& boxes, const std::vector<float>& scores,
                                   const std::vector<int>& class_ids, const NmsOptions& options);

}  // namespace mediadex::model

#endif  // MEDIADEX_MODEL_NMS_H_
