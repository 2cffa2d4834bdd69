// What a detector found, in the upright photo's pixel space.
#ifndef MEDIADEX_CORE_DETECTION_H_
#define MEDIADEX_CORE_DETECTION_H_

#include <string>

namespace mediadex {

// Axis-aligned box in pixels: (x1, y1) top-left, (x2, y2) bottom-right, x2 >= x1, y2 >= y1.
struct Box {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float Area() const { return (x2 > x1 && y2 > y1) ? (x2 - x1) * (y2 - y1) : 0.0f; }
};

// Intersection over union; 0 when either box is empty.
float IoU(const Box& a, const Box& b);

struct Detection {
  int class_id = 0;   // index into the model's label list (0-based)
  std::string label;  // e.g. "person"
  float score = 0;    // 0..1
  Box box;
};

}  // namespace mediadex

#endif  // MEDIADEX_CORE_DETECTION_H_
