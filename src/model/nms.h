// Non-maximum suppression on the host: detections per image are few (<= a few thousand), so a
// careful CPU loop beats a device round trip.
#ifndef MEDIADEX_MODEL_NMS_H_
#define MEDIADEX_MODEL_NMS_H_

#include <vector>

#include "core/detection.h"

namespace mediadex::model {

struct NmsOptions {
  float iou_threshold = 0.4f;  // suppress a box whose IoU with a kept box is > this
  float score_min = 0.2f;      // boxes scoring < this are never kept
  int max_output = 10;         // keep at most this many (<= 0: no limit)
  bool per_class = false;      // true: boxes only suppress boxes of the same class (YOLO);
                               // false: class-agnostic, as tf.image.nonMaxSuppression
};

// Greedy NMS with tf.image.nonMaxSuppression's semantics: visit boxes by descending score
// (ties: lower index first), keep one unless it overlaps an already-kept box by more than
// iou_threshold. Returns indices into `boxes`, best first. `class_ids` may be empty when
// per_class is false.
std::vector<int> NonMaxSuppression(const std::vector<Box>& boxes, const std::vector<float>& scores,
                                   const std::vector<int>& class_ids, const NmsOptions& options);

}  // namespace mediadex::model

#endif  // MEDIADEX_MODEL_NMS_H_
