// Object detectors: load a model once, then detect objects in batches of photos.
//
//   auto device = engine::PickDevice({.request = "auto"});
//   model::ModelSpec spec{.path = "models/centernet.json"};
//   auto detector = model::LoadDetector(spec, device->device);
//   std::vector<const RgbImage*> batch = {&photo1, &photo2};
//   auto results = (*detector)->Detect(batch, model::DetectOptions{});
//   // results->at(i) are the detections of batch[i], boxes in batch[i]'s full-size pixels.
//
// Thread safety: a Detector is immutable after LoadDetector() and Detect() may be called from
// several threads at once (each call keeps its own scratch state).
// No LibTorch types here (see engine/device.h for why).
#ifndef MEDIADEX_MODEL_DETECTOR_H_
#define MEDIADEX_MODEL_DETECTOR_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/detection.h"
#include "core/image.h"
#include "core/status.h"
#include "engine/device.h"

namespace mediadex::model {

// The decode size for a model's "fast" preprocessing (twice its input, see ModelInfo).
constexpr int kDecodeMargin = 2;

struct ModelSpec {
  // A TF.js graph model (`model.json`, weights beside it) or a TorchScript detector
  // (`*.torchscript`, Ultralytics YOLOv5/v8/11 export layout). The format is told by the file.
  std::string path;
  // Arithmetic of the forward pass: fp16/bf16 run convolutions in half precision on GPUs
  // (engine::ResolvePrecision picks one for "auto").
  engine::Precision precision = engine::Precision::kFp32;
};

struct DetectOptions {
  float score_min = 0.2f;   // drop detections below this score (human's minConfidence)
  float nms_iou = 0.4f;     // suppress boxes overlapping a better one by more than this
  int max_detections = 10;  // per image, after NMS
  // GPUs: pad every batch to at least this many images (0: to the next power of two). Each
  // new batch shape costs a cuDNN autotuning and a CUDA Graph capture, seconds each, and a
  // pipeline's batches come in every size; padding to its batch size gives it one shape.
  int pad_batch_to = 0;
};

struct ModelInfo {
  std::string name;        // e.g. "centernet"
  std::string format;      // "tfjs-graph-model" or "torchscript-yolo"
  std::string version;     // content hash of the model files: results are keyed by it
  int input_width = 0;     // the network's input size
  int input_height = 0;
  // The smallest decode that keeps this model's answers: "fast" preprocessing decodes a JPEG at
  // the smallest DCT scale at least this large. Twice the input: a decode at ~1x the input
  // blurs what the resize would alias, and boxes and scores drift away from a full decode
  // (measured on the reference photos; see docs/performance.md).
  int decode_width = 0;
  int decode_height = 0;
  std::vector<std::string> labels;
};

// What a pipeline must budget for a detector's inputs and working memory, so that the pipeline
// holds no facts about any one model (Detector::footprint()).
struct Footprint {
  uint64_t host_input_bytes = 0;    // one prepared input, held on the host until Detect
  uint64_t device_input_bytes = 0;  // the same in a GPU's memory, as its caching allocator rounds it
  // The host memory (RSS) one image of a batch costs inside Detect: its activations on the CPU
  // and MPS (whose memory is the host's), the staging of its input on CUDA.
  uint64_t host_bytes_per_image = 0;
  // Batches larger than this gain nothing here and only hold decoded photos (0: no limit).
  int batch_most = 0;
};

class Detector {
 public:
  virtual ~Detector() = default;
  virtual const ModelInfo& info() const = 0;
  virtual const engine::DeviceInfo& device() const = 0;
  // The default is measured for the bundled CenterNet (docs/performance.md); a detector whose
  // memory behaves otherwise overrides it.
  virtual Footprint footprint() const;

  // Detects objects in every image of `batch` in one forward pass. Each image may have any size;
  // boxes are mapped back to its full_width x full_height pixel space.
  // Errors: OutOfMemory (retry with a smaller batch), DeviceError.
  virtual Result<std::vector<std::vector<Detection>>> Detect(
      const std::vector<const RgbImage*>& batch, const DetectOptions& options) const = 0;

  // Turns a decoded photo into this detector's input ahead of Detect, on the calling thread
  // (a decode worker), so that Detect only batches and runs the network. May replace the
  // pixels with `image->prepared`; Detect accepts images either way, and so does any detector
  // of the same model on another device. Where the input lives is the detector's choice
  // (CenterNet: on the host for host pixels, making no device call, and on its GPU for
  // GPU-decoded ones; callers budget for it).
  // The default keeps host pixels and copies GPU-decoded ones (device_pixels) to the host.
  // Errors: OutOfMemory, DeviceError.
  virtual Status Prepare(RgbImage* image) const;

  // True when Upload moves prepared inputs that Prepare left on the host into the device's
  // memory (CenterNet on CUDA). A pipeline then uploads on a thread of its own, so decode
  // workers never wait for the device or hold its driver's locks, and Detect only gathers.
  virtual bool UploadsPreparedInputs() const { return false; }

  // Runs the network as a pipeline's first batches of `batch_size` will (on a GPU: padded to
  // it), on blank inputs, so that its first real batch finds the kernels loaded, cuDNN's
  // choices made and the CUDA Graph captured. A GPU's first forward pass costs 0.3 s (fp32) to
  // 0.5 s (fp16) on an H100 with idle CPUs, and up to 1.1 s amid busy decoders: a pipeline
  // calls this before its decoders start. Does nothing where the first pass costs little (the
  // CPU). Errors: OutOfMemory, DeviceError.
  virtual Status WarmUp(int batch_size) const {
    (void)batch_size;
    return Status::Ok();
  }

  // Moves the images' prepared inputs to the device, on the calling thread; several at once
  // cost fewer device calls than one at a time. Detect accepts images either way.
  // Errors (then none moved): OutOfMemory, DeviceError.
  virtual Status Upload(const std::vector<RgbImage*>& images) const {
    (void)images;
    return Status::Ok();
  }
};

// Loads the model at spec.path onto `device`. Errors name the model file and, for graph
// models, the node and op at fault (NotFound, Corrupt, Unsupported).
Result<std::unique_ptr<Detector>> LoadDetector(const ModelSpec& spec,
                                               const engine::DeviceInfo& device);

// The 80 COCO class names in the order CenterNet/YOLO number them.
const std::vector<std::string>& CocoLabels();

}  // namespace mediadex::model

#endif  // MEDIADEX_MODEL_DETECTOR_H_
