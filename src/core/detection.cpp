#include "core/detection.h"

#include <algorithm>

namespace mediadex {

float IoU(const Box& a, const Box& b) {
  const Box inter{std::max(a.x1, b.x1), std::max(a.y1, b.y1), std::min(a.x2, b.x2),
                  std::min(a.y2, b.y2)};
  const float i = inter.Area();
  const float u = a.Area() + b.Area() - i;
  return u > 0 ? i / u : 0.0f;
}

}  // namespace mediadex
