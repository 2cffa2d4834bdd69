#include "model/torchscript/yolo_detector.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <torch/script.h>  // torch::jit::load; slow to compile, so only here

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/hash.h"
#include "engine/torch_device.h"
#include "model/nms.h"

namespace mediadex::model {
namespace {

constexpr int kDefaultInputSize = 640;
constexpr float kPadGray = 114.0f;

enum class Layout { kV8, kV5 };

// What the export's config.txt says, with mediadex's defaults filled in.
struct Metadata {
  int input_width = kDefaultInputSize;
  int input_height = kDefaultInputSize;
  std::vector<std::string> names;  // empty: not given
};

std::string FirstLine(const std::string& s) { return s.substr(0, s.find('\n')); }

std::string ShapeString(at::IntArrayRef sizes) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < sizes.size(); ++i) out << (i ? ", " : "") << sizes[i];
  out << "]";
  return out.str();
}

// Ultralytics writes json.dumps(metadata) (YOLOv8/11: imgsz [h, w], names {"0": ...}, task;
// YOLOv5: shape [1, 3, h, w], names as a dict or list).
Result<Metadata> ParseMetadata(const std::string& path, const std::string& text) {
  Metadata meta;
  if (text.empty()) return meta;
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Corrupt(path + ": config.txt metadata is not a JSON object");
  }
  try {
    if (j.contains("task") && j["task"].get<std::string>() != "detect") {
      return Unsupported(path + ": a '" + j["task"].get<std::string>() +
                         "' model; only detection models (task=detect) are supported");
    }
    if (j.value("end2end", false)) {
      return Unsupported(path + ": an end-to-end (NMS-free) export; export it with end2end=False");
    }
    if (j.contains("imgsz")) {
      const auto& size = j["imgsz"];
      if (size.is_array() && size.size() == 2) {
        meta.input_height = size[0].get<int>();
        meta.input_width = size[1].get<int>();
      } else {
        meta.input_height = meta.input_width = size.get<int>();
      }
    } else if (j.contains("shape") && j["shape"].is_array() && j["shape"].size() == 4) {
      meta.input_height = j["shape"][2].get<int>();
      meta.input_width = j["shape"][3].get<int>();
    }
    if (j.contains("names")) {
      const auto& names = j["names"];
      if (names.is_array()) {
        for (const auto& name : names) meta.names.push_back(name.get<std::string>());
      } else if (names.is_object()) {
        std::vector<std::pair<int, std::string>> numbered;
        for (auto it = names.begin(); it != names.end(); ++it) {
          size_t used = 0;
          const int id = std::stoi(it.key(), &used);
          if (used != it.key().size() || id < 0 || id > 100000) {
            return Corrupt(path + ": config.txt names has a non-numeric key '" + it.key() + "'");
          }
          numbered.emplace_back(id, it.value().get<std::string>());
        }
        for (const auto& [id, name] : numbered) {
          if (static_cast<size_t>(id) >= meta.names.size()) meta.names.resize(id + 1);
          meta.names[id] = name;
        }
        for (size_t i = 0; i < meta.names.size(); ++i) {
          if (meta.names[i].empty()) meta.names[i] = "class" + std::to_string(i);
        }
      }
    }
  } catch (const std::exception& e) {  // nlohmann type errors, std::stoi
    return Corrupt(path + ": config.txt metadata: " + FirstLine(e.what()));
  }
  if (meta.input_width <= 0 || meta.input_height <= 0 || meta.input_width > 8192 ||
      meta.input_height > 8192) {
    return Corrupt(path + ": config.txt gives an input size out of range");
  }
  return meta;
}

// The first tensor of a model output: a tensor, or the first element of a tuple/list.
Result<at::Tensor> FirstTensor(const std::string& path, const c10::IValue& value) {
  c10::IValue v = value;
  for (int depth = 0; depth < 3; ++depth) {
    if (v.isTensor()) return v.toTensor();
    if (v.isTuple() && !v.toTupleRef().elements().empty()) {
      v = v.toTupleRef().elements()[0];
    } else if (v.isTensorList() && !v.toTensorVector().empty()) {
      return v.toTensorVector()[0];
    } else if (v.isList() && !v.toListRef().empty()) {
      v = v.toListRef()[0];
    } else {
      break;
    }
  }
  return Unsupported(path + ": model output is a " + value.tagKind() + ", not a tensor");
}

class YoloDetector final : public Detector {
 public:
  YoloDetector(torch::jit::Module module, ModelInfo info, engine::DeviceInfo device, Layout layout,
               int num_classes, at::ScalarType input_type, std::string path)
      : module_(std::move(module)),
        info_(std::move(info)),
        device_(std::move(device)),
        layout_(layout),
        num_classes_(num_classes),
        input_type_(input_type),
        path_(std::move(path)) {}

  const ModelInfo& info() const override { return info_; }
  const engine::DeviceInfo& device() const override { return device_; }

  Result<std::vector<std::vector<Detection>>> Detect(const std::vector<const RgbImage*>& batch,
                                                     const DetectOptions& options) const override;

 private:
  // The network output for `batch`, checked against the layout seen at load.
  Status Forward(const std::vector<const RgbImage*>& batch, const std::vector<Letterbox>& boxes,
                 at::Tensor* rows) const;
  std::vector<Detection> Decode(const float* rows, int64_t count, const RgbImage& image,
                                const Letterbox& lb, const DetectOptions& options) const;

  // Module::forward is not const, but running a loaded module from several threads is safe.
  mutable torch::jit::Module module_;
  const ModelInfo info_;
  const engine::DeviceInfo device_;
  const Layout layout_;
  const int num_classes_;
  const at::ScalarType input_type_;
  const std::string path_;
};

Status CheckImage(const RgbImage* image, size_t index) {
  const std::string where = "batch image " + std::to_string(index);
  if (image == nullptr) return InvalidArgument(where + ": null image");
  if (image->width <= 0 || image->height <= 0) return InvalidArgument(where + ": empty image");
  if (image->pixels.size() != static_cast<size_t>(image->width) * image->height * 3) {
    return InvalidArgument(where + ": pixel buffer is not width * height * 3 bytes");
  }
  return Status::Ok();
}

int FullWidth(const RgbImage& image) { return image.full_width > 0 ? image.full_width : image.width; }
int FullHeight(const RgbImage& image) {
  return image.full_height > 0 ? image.full_height : image.height;
}

Status YoloDetector::Forward(const std::vector<const RgbImage*>& batch,
                             const std::vector<Letterbox>& boxes, at::Tensor* rows) const {
  const std::string what = path_ + ": forward";
  return engine::CatchTorch(what.c_str(), [&] {
    c10::InferenceMode guard;
    const auto device = engine::ToTorchDevice(device_);
    const int64_t b = static_cast<int64_t>(batch.size());
    at::Tensor input =
        at::full({b, 3, info_.input_height, info_.input_width}, kPadGray,
                 at::TensorOptions().dtype(at::kFloat).device(device));
    for (int64_t i = 0; i < b; ++i) {
      const RgbImage& image = *batch[i];
      const Letterbox& lb = boxes[i];
      // Upload bytes (a quarter of the floats), convert and resize on the device.
      at::Tensor hwc = at::from_blob(const_cast<uint8_t*>(image.pixels.data()),
                                     {image.height, image.width, 3}, at::kByte);
      at::Tensor chw = hwc.to(device).permute({2, 0, 1}).unsqueeze(0).to(at::kFloat);
      if (chw.size(2) != lb.height || chw.size(3) != lb.width) {
        // Half-pixel centres, no antialiasing: cv2.INTER_LINEAR, which Ultralytics uses.
        chw = at::upsample_bilinear2d(chw, {lb.height, lb.width}, /*align_corners=*/false);
      }
      input[i]
          .narrow(1, lb.top, lb.height)
          .narrow(2, lb.left, lb.width)
          .copy_(chw[0]);
    }
    input.div_(255.0f);
    if (input_type_ != at::kFloat) input = input.to(input_type_);
    at::Tensor out;
    {
      auto result = FirstTensor(path_, module_.forward({input}));
      if (!result.ok()) throw std::runtime_error(result.status().message());
      out = *result;
    }
    const int64_t rows_per_box = layout_ == Layout::kV8 ? 4 + num_classes_ : 5 + num_classes_;
    const bool shape_ok =
        out.dim() == 3 && out.size(0) == b &&
        (layout_ == Layout::kV8 ? out.size(1) == rows_per_box : out.size(2) == rows_per_box);
    if (!shape_ok) {
      throw std::runtime_error("output shape " + ShapeString(out.sizes()) +
                               " differs from the one seen at load for batch " +
                               std::to_string(b));
    }
    out = out.to(at::kFloat);
    if (layout_ == Layout::kV8) out = out.transpose(1, 2);  // [B, N, 4 + nc]
    // Best class per box on the device; only [B, N, 6] crosses to the host.
    at::Tensor xywh = out.narrow(2, 0, 4);
    at::Tensor scores;
    at::Tensor gate;  // YOLOv5 also requires objectness > score_min, as its NMS does
    if (layout_ == Layout::kV8) {
      scores = out.narrow(2, 4, num_classes_);
      gate = at::ones({b, out.size(1), 1}, out.options());
    } else {
      gate = out.narrow(2, 4, 1);
      scores = out.narrow(2, 5, num_classes_) * gate;
    }
    auto best = scores.max(2, /*keepdim=*/true);
    *rows = at::cat({xywh, std::get<0>(best), std::get<1>(best).to(at::kFloat), gate}, 2)
                .to(at::kCPU)
                .contiguous();
  });
}

std::vector<Detection> YoloDetector::Decode(const float* rows, int64_t count,
                                            const RgbImage& image, const Letterbox& lb,
                                            const DetectOptions& options) const {
  constexpr int kStride = 7;  // cx, cy, w, h, score, class, objectness
  std::vector<Box> boxes;
  std::vector<float> scores;
  std::vector<int> classes;
  for (int64_t n = 0; n < count; ++n) {
    const float* r = rows + n * kStride;
    if (!(r[4] > options.score_min) || !(r[6] > options.score_min)) continue;
    if (!std::isfinite(r[0]) || !std::isfinite(r[1]) || !std::isfinite(r[2]) ||
        !std::isfinite(r[3])) {
      continue;
    }
    // NMS runs in input pixels, as Ultralytics does; the mapping back is affine anyway.
    boxes.push_back({r[0] - r[2] / 2, r[1] - r[3] / 2, r[0] + r[2] / 2, r[1] + r[3] / 2});
    scores.push_back(r[4]);
    classes.push_back(static_cast<int>(r[5]));
  }
  NmsOptions nms;
  nms.iou_threshold = options.nms_iou;
  nms.score_min = options.score_min;
  nms.max_output = options.max_detections;
  nms.per_class = true;
  const std::vector<int> kept = NonMaxSuppression(boxes, scores, classes, nms);

  const float full_w = static_cast<float>(FullWidth(image));
  const float full_h = static_cast<float>(FullHeight(image));
  std::vector<Detection> detections;
  detections.reserve(kept.size());
  for (int k : kept) {
    Detection d;
    d.class_id = classes[k];
    d.label = static_cast<size_t>(d.class_id) < info_.labels.size()
                  ? info_.labels[d.class_id]
                  : "class" + std::to_string(d.class_id);
    d.score = scores[k];
    const Box& b = boxes[k];
    d.box.x1 = std::clamp((b.x1 - lb.left) / lb.scale, 0.0f, full_w);
    d.box.y1 = std::clamp((b.y1 - lb.top) / lb.scale, 0.0f, full_h);
    d.box.x2 = std::clamp((b.x2 - lb.left) / lb.scale, 0.0f, full_w);
    d.box.y2 = std::clamp((b.y2 - lb.top) / lb.scale, 0.0f, full_h);
    detections.push_back(std::move(d));
  }
  return detections;
}

Result<std::vector<std::vector<Detection>>> YoloDetector::Detect(
    const std::vector<const RgbImage*>& batch, const DetectOptions& options) const {
  std::vector<std::vector<Detection>> results(batch.size());
  if (batch.empty()) return results;
  std::vector<Letterbox> letterboxes;
  letterboxes.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    MDX_RETURN_IF_ERROR(CheckImage(batch[i], i));
    letterboxes.push_back(ComputeLetterbox(FullWidth(*batch[i]), FullHeight(*batch[i]),
                                           info_.input_width, info_.input_height));
  }
  at::Tensor rows;
  MDX_RETURN_IF_ERROR(Forward(batch, letterboxes, &rows));
  const int64_t count = rows.size(1);
  for (size_t i = 0; i < batch.size(); ++i) {
    results[i] = Decode(rows.data_ptr<float>() + i * count * rows.size(2), count, *batch[i],
                        letterboxes[i], options);
  }
  return results;
}

// Tells the layout from the output of a batch-1 forward pass; `nc_known` is the class count
// from the metadata or COCO's, which it must match (a tiny N must not fool the heuristic).
Result<std::pair<Layout, int>> DetectLayout(const std::string& path, at::IntArrayRef shape,
                                            int nc_known, bool nc_from_metadata) {
  const std::string shape_text = ShapeString(shape);
  if (shape.size() != 3 || shape[0] != 1) {
    return Unsupported(path + ": output shape " + shape_text +
                       " for a batch of 1 is neither [1, 4+nc, N] (YOLOv8/11) nor [1, N, 5+nc] "
                       "(YOLOv5)");
  }
  if (shape[1] == 4 + nc_known) return std::make_pair(Layout::kV8, nc_known);
  if (shape[2] == 5 + nc_known) return std::make_pair(Layout::kV5, nc_known);
  if (!nc_from_metadata) {
    // No names to go by: the boxes axis is the long one in every real export.
    if (shape[1] < shape[2] && shape[1] > 4) {
      return std::make_pair(Layout::kV8, static_cast<int>(shape[1] - 4));
    }
    if (shape[2] < shape[1] && shape[2] > 5) {
      return std::make_pair(Layout::kV5, static_cast<int>(shape[2] - 5));
    }
  }
  return Unsupported(path + ": output shape " + shape_text + " fits neither [1, 4+nc, N] " +
                     "(YOLOv8/11) nor [1, N, 5+nc] (YOLOv5) with nc = " +
                     std::to_string(nc_known));
}

}  // namespace

Letterbox ComputeLetterbox(int photo_width, int photo_height, int input_width, int input_height) {
  Letterbox lb;
  const double r = std::min(static_cast<double>(input_height) / photo_height,
                            static_cast<double>(input_width) / photo_width);
  lb.scale = static_cast<float>(r);
  // Python's round() is round-half-even, as nearbyint in the default rounding mode.
  lb.width = std::clamp(static_cast<int>(std::nearbyint(photo_width * r)), 1, input_width);
  lb.height = std::clamp(static_cast<int>(std::nearbyint(photo_height * r)), 1, input_height);
  // round(d / 2 - 0.1) for the leading side: the odd pixel goes to the right/bottom.
  lb.left = (input_width - lb.width) / 2;
  lb.top = (input_height - lb.height) / 2;
  return lb;
}

Result<std::unique_ptr<Detector>> LoadYoloDetector(const std::string& path,
                                                   const engine::DeviceInfo& device) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return NotFound(path + ": model file not found");
  auto version = HashFilesHex({path});
  if (!version.ok()) return version.status();

  torch::jit::ExtraFilesMap extra_files{{"config.txt", ""}};
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, engine::ToTorchDevice(device), extra_files);
  } catch (const c10::Error& e) {
    return Corrupt(path + ": not a TorchScript file (" + FirstLine(e.what_without_backtrace()) +
                   "); an Ultralytics .pt checkpoint must first be exported with "
                   "`yolo export format=torchscript`");
  } catch (const std::exception& e) {
    return Corrupt(path + ": not a TorchScript file (" + FirstLine(e.what()) + ")");
  }
  module.eval();

  auto meta = ParseMetadata(path, extra_files["config.txt"]);
  if (!meta.ok()) return meta.status();
  const bool nc_from_metadata = !meta->names.empty();
  std::vector<std::string> labels = nc_from_metadata ? meta->names : CocoLabels();

  at::ScalarType input_type = at::kFloat;
  for (const auto& p : module.parameters()) {  // fp16 exports want fp16 input
    if (at::isFloatingType(p.scalar_type())) input_type = p.scalar_type();
    break;
  }

  // One forward pass now: a model that cannot run, or has no known layout, fails at load with
  // its file name rather than at the first photo. It also warms up the JIT.
  std::vector<int64_t> out_shape;
  const std::string what = path + ": test forward on a [1, 3, " +
                           std::to_string(meta->input_height) + ", " +
                           std::to_string(meta->input_width) + "] input";
  MDX_RETURN_IF_ERROR(engine::CatchTorch(what.c_str(), [&] {
    c10::InferenceMode guard;
    at::Tensor input = at::zeros({1, 3, meta->input_height, meta->input_width},
                                 at::TensorOptions().dtype(input_type).device(
                                     engine::ToTorchDevice(device)));
    auto out = FirstTensor(path, module.forward({input}));
    if (!out.ok()) throw std::runtime_error(out.status().message());
    out_shape = out->sizes().vec();
  }));
  auto layout = DetectLayout(path, out_shape, static_cast<int>(labels.size()), nc_from_metadata);
  if (!layout.ok()) return layout.status();
  const int nc = layout->second;
  if (static_cast<size_t>(nc) != labels.size()) {
    labels.clear();
    for (int i = 0; i < nc; ++i) labels.push_back("class" + std::to_string(i));
  }

  ModelInfo info;
  info.name = std::filesystem::path(path).stem().string();
  info.format = "torchscript-yolo";
  info.version = *version;
  info.input_width = meta->input_width;
  info.input_height = meta->input_height;
  info.labels = std::move(labels);
  info.decode_width = kDecodeMargin * info.input_width;
  info.decode_height = kDecodeMargin * info.input_height;
  return std::unique_ptr<Detector>(new YoloDetector(std::move(module), std::move(info), device,
                                                    layout->first, nc, input_type, path));
}

}  // namespace mediadex::model
