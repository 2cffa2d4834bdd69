// Ultralytics YOLO detectors exported to TorchScript (`yolo export format=torchscript`).
//
//   auto detector = model::LoadYoloDetector("yolov8n.torchscript", device);
//   auto results = (*detector)->Detect({&photo}, model::DetectOptions{});
//
// Understood layouts, told apart by the output shape and the class count:
//   YOLOv8/11: [B, 4 + nc, N] = cx, cy, w, h (input pixels) and nc class scores;
//   YOLOv5:    [B, N, 5 + nc] = cx, cy, w, h, objectness, nc class scores (score = obj * cls).
// The output may be a tuple or list; its first tensor is used. The export's `config.txt`
// metadata gives imgsz and names; without it, 640x640 and the COCO names.
// Pre-processing is Ultralytics' LetterBox (auto=False): resize keeping the aspect ratio
// (bilinear), centre on 114-gray, RGB, /255, NCHW. Post-processing: best class per box,
// score > score_min, per-class NMS (IoU > nms_iou), max_detections, boxes mapped back to each
// photo's full-size pixels and clipped to it.
#ifndef MEDIADEX_MODEL_TORCHSCRIPT_YOLO_DETECTOR_H_
#define MEDIADEX_MODEL_TORCHSCRIPT_YOLO_DETECTOR_H_

#include <memory>
#include <string>

#include "core/status.h"
#include "engine/device.h"
#include "model/detector.h"

namespace mediadex::model {

// Loads the TorchScript file at `path` onto `device` and checks it with one forward pass.
// Errors name the file: NotFound, IOError, Corrupt (not TorchScript, bad config.txt),
// Unsupported (a non-detect task or an output shape of no known layout), or the forward
// pass's OutOfMemory/DeviceError.
Result<std::unique_ptr<Detector>> LoadYoloDetector(const std::string& path,
                                                   const engine::DeviceInfo& device);

// Where a photo lands in the network input (Ultralytics' LetterBox, scaleup on, auto off),
// computed from the photo's full size so that a DCT-shrunk buffer maps exactly as the
// full-size photo would.
struct Letterbox {
  float scale = 1;  // input pixels per photo pixel
  int width = 0;    // the resized photo inside the input
  int height = 0;
  int left = 0;     // gray padding before it
  int top = 0;
};
Letterbox ComputeLetterbox(int photo_width, int photo_height, int input_width, int input_height);

}  // namespace mediadex::model

#endif  // MEDIADEX_MODEL_TORCHSCRIPT_YOLO_DETECTOR_H_
