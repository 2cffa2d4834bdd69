#include "model/nms.h"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <unordered_map>

namespace mediadex::model {
namespace {

// A box with sorted corners and its area, computed once per candidate. Doubles because TF.js
// computes IoU in JavaScript numbers: a box exactly at the threshold must land on the same side.
struct Rect {
  double x1, y1, x2, y2, area;
};

Rect MakeRect(const Box& b) {
  Rect r;
  r.x1 = std::min(b.x1, b.x2);
  r.x2 = std::max(b.x1, b.x2);
  r.y1 = std::min(b.y1, b.y2);
  r.y2 = std::max(b.y1, b.y2);
  r.area = (r.x2 - r.x1) * (r.y2 - r.y1);
  return r;
}

double RectIoU(const Rect& a, const Rect& b) {
  if (a.area <= 0 || b.area <= 0) return 0.0;
  const double iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  if (iw <= 0) return 0.0;
  const double ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (ih <= 0) return 0.0;
  const double inter = iw * ih;
  return inter / (a.area + b.area - inter);
}

}  // namespace

std::vector<int> NonMaxSuppression(const std::vector<Box>& boxes, const std::vector<float>& scores,
                                   const std::vector<int>& class_ids, const NmsOptions& options) {
  const size_t n = std::min(boxes.size(), scores.size());
  std::vector<int> order;
  order.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (scores[i] > options.score_min) order.push_back(static_cast<int>(i));  // false for NaN
  }
  std::sort(order.begin(), order.end(), [&scores](int a, int b) {
    return scores[a] > scores[b] || (scores[a] == scores[b] && a < b);
  });

  const size_t limit = options.max_output > 0 ? static_cast<size_t>(options.max_output)
                                              : std::numeric_limits<size_t>::max();
  const double threshold = options.iou_threshold;
  const bool inclusive = !options.per_class;  // TF.js suppresses at IoU == threshold, torchvision not
  const auto overlaps = [threshold, inclusive](double iou) {
    return inclusive ? iou >= threshold : iou > threshold;
  };
  const auto class_of = [&class_ids](int i) {
    return static_cast<size_t>(i) < class_ids.size() ? class_ids[i] : -1;
  };

  std::vector<int> kept;
  kept.reserve(std::min(limit, order.size()));
  // Kept boxes, grouped by class in per-class mode so a candidate only meets its own class.
  std::unordered_map<int, std::vector<Rect>> kept_rects;
  for (int index : order) {
    if (kept.size() >= limit) break;
    const Rect rect = MakeRect(boxes[index]);
    std::vector<Rect>& group = kept_rects[options.per_class ? class_of(index) : 0];
    bool suppressed = false;
    // Newest first: overlapping boxes have similar scores, so a suppressor is usually recent.
    for (auto it = group.rbegin(); it != group.rend(); ++it) {
      if (overlaps(RectIoU(rect, *it))) {
        suppressed = true;
        break;
      }
    }
    if (suppressed) continue;
    kept.push_back(index);
    group.push_back(rect);
  }
  return kept;
}

}  // namespace mediadex::model
