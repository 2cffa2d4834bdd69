// CenterNet (MobileNetV3, COCO) as a TF.js graph model, with the pre- and post-processing of
// @vladmandic/human's src/object/centernet.ts: bilinear resize (TF rules) to the input size,
// output [B,100,6] = x1,y1,x2,y2,score,class in input pixels, class-agnostic NMS.
#ifndef MEDIADEX_MODEL_CENTERNET_DETECTOR_H_
#define MEDIADEX_MODEL_CENTERNET_DETECTOR_H_

#include <memory>
#include <string>

#include "model/detector.h"

namespace mediadex::model {

// Loads a TF.js graph model with a single image input [1,H,W,3] (0..255 floats) and a
// detections output [1,N,6]; CenterNet from human is the one we ship.
Result<std::unique_ptr<Detector>> LoadCenternetDetector(const ModelSpec& spec,
                                                        const engine::DeviceInfo& device);

}  // namespace mediadex::model

#endif  // MEDIADEX_MODEL_CENTERNET_DETECTOR_H_
