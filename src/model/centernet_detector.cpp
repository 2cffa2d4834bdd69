#include "model/centernet_detector.h"

#include <ATen/ATen.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/hash.h"
#include "core/time_accumulator.h"
#include "engine/gpu_runtime.h"
#include "engine/pinned_staging.h"
#include "engine/torch_device.h"
#include "model/nms.h"
#include "model/tfjs/graph_model.h"

namespace mediadex::model {
namespace {

constexpr const char* kDetectionsOutput = "tower_0/detections";
// CenterNet's two heads: per-class centre heat maps and box extents, both [B,H,W,*].
constexpr const char* kKeypointsOutput = "tower_0/keypoints";
constexpr const char* kSizesOutput = "tower_0/wh";
constexpr int64_t kTopK = 100;  // rows of tower_0/detections

using Clock = std::chrono::steady_clock;

class CenternetDetector final : public Detector {
 public:
  CenternetDetector(std::unique_ptr<tfjs::GraphModel> graph, ModelInfo info,
                    engine::DeviceInfo device, engine::Precision precision, std::string input_name)
      : graph_(std::move(graph)),
        info_(std::move(info)),
        device_(std::move(device)),
        precision_(precision),
        input_name_(std::move(input_name)) {}

  // The graph's tail (top 100 peaks, gather of their box sizes) is written for batch 1, so the
  // executor runs it once per image: hundreds of tiny kernels at batch 256 on a GPU. When the
  // graph has the two heads and decoding them here gives exactly what its tail gives (checked
  // on one input now), every batch is decoded at once instead.
  void EnableBatchedDecodeIfExact() {
    at::NoGradGuard no_grad;
    const auto device = engine::ToTorchDevice(device_);
    at::Tensor probe = at::rand({1, info_.input_height, info_.input_width, 3},
                                at::TensorOptions().device(device)) * 255;
    auto both = graph_->Execute({{input_name_, probe}}, {kDetectionsOutput, kKeypointsOutput, kSizesOutput});
    if (!both.ok()) return;  // not a two-headed CenterNet graph: keep the graph's tail
    const at::Tensor ours = DecodeHeads((*both)[1], (*both)[2]);
    const at::Tensor theirs = (*both)[0].to(at::kFloat);
    // Rows whose score is 0 (fewer than 100 peaks) may differ in order; they never pass NMS.
    const at::Tensor scored = theirs.select(2, 4) > 0;
    batched_decode_ = ours.sizes() == theirs.sizes() &&
                      at::equal(ours.masked_select(scored.unsqueeze(2)), theirs.masked_select(scored.unsqueeze(2)));
    spdlog::debug("{}: {}", info_.name, batched_decode_ ? "heads decoded batched (equal to the graph's tail)"
                                                        : "the graph's own tail decodes the heads");
  }

  ~CenternetDetector() override {
    if (times_.uploads > 0) {
      spdlog::debug("{} on {}: {} uploads; waiting for a staging buffer {:.2f} s, copying into it {:.2f} s, "
                    "allocating on the GPU {:.2f} s, queueing the copy {:.2f} s",
                    info_.name, device_.name, times_.uploads.load(), times_.staging_wait.seconds(),
                    times_.staging_copy.seconds(), times_.device_alloc.seconds(), times_.copy_queue.seconds());
    }
    if (times_.images > 0) {
      spdlog::debug("{} on {}: {} images detected; batching {:.2f} s, network {:.2f} s, postprocessing {:.2f} s",
                    info_.name, device_.name, times_.images.load(), times_.batching.seconds(), times_.network.seconds(),
                    times_.postprocess.seconds());
    }
  }

  const ModelInfo& info() const override { return info_; }
  const engine::DeviceInfo& device() const override { return device_; }

  Result<std::vector<std::vector<Detection>>> Detect(const std::vector<const RgbImage*>& batch,
                                                     const DetectOptions& options) const override {
    if (batch.empty()) return std::vector<std::vector<Detection>>{};
    // On the CPU, one image per forward pass is fastest: a larger batch's activations fall out
    // of cache (measured on 2 cores: 60 ms/image at batch 1, 95 ms/image at batch 8).
    const size_t chunk = device_.kind == engine::DeviceKind::kCpu ? 1 : batch.size();
    std::vector<at::Tensor> parts;
    Status graph_status;  // the executor's own status keeps its code (e.g. OutOfMemory)
    Status status = engine::CatchTorch("centernet forward", [&] {
      at::NoGradGuard no_grad;
      auto on_stream = stream_.Use();
      engine::PrecisionScope precision(device_, precision_);
      try {
        for (size_t begin = 0; begin < batch.size(); begin += chunk) {
          const std::vector<const RgbImage*> slice(batch.begin() + begin,
                                                   batch.begin() + std::min(batch.size(), begin + chunk));
          auto start = Clock::now();
          const at::Tensor input = Batch(slice, options.pad_batch_to);
          times_.batching.Add(start);
          start = Clock::now();
          const auto forward = [this](const at::Tensor& x) { return Forward(x); };
          // The graph's own tail needs the host mid-graph, so only batched decoding is captured.
          parts.push_back(batched_decode_ ? graphs_->RunToHost(input, forward) : forward(input).to(at::kCPU));
          times_.network.Add(start);
        }
      } catch (const ForwardFailed& e) {
        graph_status = e.status;
      }
    });
    if (!graph_status.ok()) return graph_status;
    if (!status.ok()) return status;
    const auto start = Clock::now();
    const at::Tensor raw = (parts.size() == 1 ? parts.front() : at::cat(parts, 0)).contiguous();
    std::vector<std::vector<Detection>> results;
    results.reserve(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      results.push_back(Postprocess(raw[static_cast<int64_t>(i)], *batch[i], options));
    }
    times_.postprocess.Add(start);
    times_.images += static_cast<int64_t>(batch.size());
    return results;
  }

  // GPU-decoded pixels are resized on their GPU, by one kernel on a stream of this call's own
  // (Detect waits for `ready`). Host pixels are resized here into host memory, with no device
  // call, so decode threads never hold a driver or allocator lock that the nvJPEG workers and
  // the inference thread wait for; on a GPU, Upload or Detect moves them there.
  Status Prepare(RgbImage* image) const override {
    return engine::CatchTorch("centernet preprocessing", [&] {
      at::NoGradGuard no_grad;
      auto prepared = std::make_shared<PreparedInput>();
      prepared->model = info_.version;
      if (device_.kind == engine::DeviceKind::kCuda && image->device_pixels) {
        const engine::DeviceStream stream(device_);
        auto on_stream = stream.Use();
        prepared->input = Input(*image);
        // The decoded pixels go back to the allocator now, though the resize may still read them.
        image->device_pixels->hwc.record_stream(CurrentStream());
        prepared->ready = ReadyEvent();
      } else {
        prepared->input = Input(*image);
      }
      image->prepared = std::move(prepared);
      std::vector<uint8_t>().swap(image->pixels);
      image->device_pixels.reset();
    });
  }

  bool UploadsPreparedInputs() const override { return device_.kind == engine::DeviceKind::kCuda; }

  Status WarmUp(int batch_size) const override {
    if (device_.kind != engine::DeviceKind::kCuda || batch_size < 1) return Status::Ok();
    RgbImage blank;
    blank.width = blank.full_width = info_.input_width;
    blank.height = blank.full_height = info_.input_height;
    Status made = engine::CatchTorch("centernet warm-up", [&] {
      auto prepared = std::make_shared<PreparedInput>();
      prepared->model = info_.version;
      prepared->input = at::zeros({info_.input_height, info_.input_width, 3},
                                  at::TensorOptions().dtype(at::kFloat).device(engine::ToTorchDevice(device_)));
      blank.prepared = std::move(prepared);
    });
    if (!made.ok()) return made;
    const std::vector<const RgbImage*> batch(static_cast<size_t>(batch_size), &blank);
    DetectOptions options;
    options.pad_batch_to = batch_size;
    for (int run = 0; run < engine::ForwardGraphs::kRunsUntilReplay; ++run) {
      auto detected = Detect(batch, options);
      if (!detected.ok()) return detected.status();
    }
    // The -v timings count the pipeline's photos only.
    for (TimeAccumulator* t : {&times_.batching, &times_.network, &times_.postprocess}) t->Reset();
    times_.images = 0;
    return Status::Ok();
  }

  // Host inputs to the GPU on a stream of this call's own (an upload thread's; Detect waits
  // for `ready`), through pinned staging blocks of kUploadChunk inputs: a copy from pageable
  // memory is staged by the driver through small bounce buffers, each waited for. One copy per
  // block, since while nvJPEG's batched decode runs every CUDA call of another thread may wait
  // ~2 ms (docs/performance.md).
  Status Upload(const std::vector<RgbImage*>& images) const override {
    std::vector<RgbImage*> host;
    for (RgbImage* image : images) {
      if (image->prepared && !image->prepared->input.is_cuda()) host.push_back(image);
    }
    if (!UploadsPreparedInputs() || host.empty()) return Status::Ok();
    return engine::CatchTorch("centernet upload", [&] {
      const engine::DeviceStream stream(device_);
      auto on_stream = stream.Use();
      std::vector<std::shared_ptr<PreparedInput>> moved(host.size());
      for (size_t first = 0; first < host.size(); first += kUploadChunk) {
        const size_t n = std::min(kUploadChunk, host.size() - first);
        auto start = Clock::now();
        engine::PinnedStagingPool::Block staging = staging_.Take();
        times_.staging_wait.Add(start);
        start = Clock::now();
        for (size_t i = 0; i < n; ++i) staging.tensor[static_cast<int64_t>(i)].copy_(host[first + i]->prepared->input);
        times_.staging_copy.Add(start);
        start = Clock::now();
        const at::Tensor from = staging.tensor.narrow(0, 0, static_cast<int64_t>(n));
        const at::Tensor on_device = at::empty(from.sizes(), from.options().device(engine::ToTorchDevice(device_)).pinned_memory(false));
        times_.device_alloc.Add(start);
        start = Clock::now();
        on_device.copy_(from, /*non_blocking=*/true);
        std::shared_ptr<const c10::Event> copied = ReadyEvent();
        times_.copy_queue.Add(start);
        staging.copied = copied;
        staging_.Return(std::move(staging));
        for (size_t i = 0; i < n; ++i) {
          auto& uploaded = moved[first + i];
          uploaded = std::make_shared<PreparedInput>();
          uploaded->model = host[first + i]->prepared->model;
          uploaded->input = on_device[static_cast<int64_t>(i)];
          uploaded->ready = copied;
        }
      }
      // All or none: a failed upload leaves every input on the host.
      for (size_t i = 0; i < host.size(); ++i) host[i]->prepared = std::move(moved[i]);
      times_.uploads += static_cast<int64_t>(host.size());
    });
  }

 private:
  struct ForwardFailed : std::runtime_error {
    explicit ForwardFailed(Status s) : std::runtime_error(s.message()), status(std::move(s)) {}
    Status status;
  };

  // The calling thread's current stream on this detector's device.
  c10::Stream CurrentStream() const {
    const c10::Device device = engine::ToTorchDevice(device_);
    return c10::impl::getDeviceGuardImpl(device.type())->getStream(device);
  }

  // An event at the end of the work queued so far on the current stream.
  std::unique_ptr<c10::Event> ReadyEvent() const {
    const c10::Stream current = CurrentStream();
    auto ready = std::make_unique<c10::Event>(current.device_type());
    ready->record(current);
    return ready;
  }

  // The network on a batch on the device -> [B, 100, 6] rows (see DecodeHeads), float.
  at::Tensor Forward(const at::Tensor& input) const {
    if (batched_decode_) {
      auto outputs = graph_->Execute({{input_name_, input}}, {kKeypointsOutput, kSizesOutput});
      if (!outputs.ok()) throw ForwardFailed(outputs.status());
      return DecodeHeads((*outputs)[0], (*outputs)[1]);
    }
    auto outputs = graph_->Execute({{input_name_, input}}, {kDetectionsOutput});
    if (!outputs.ok()) throw ForwardFailed(outputs.status());
    return outputs->front().to(at::kFloat);
  }

  // The photos' inputs stacked into one float NHWC batch on the device. Prepared inputs are
  // only copied (on a GPU, from the GPU); others are made here. On a GPU the batch is
  // padded with zeros (see DetectOptions::pad_batch_to).
  at::Tensor Batch(const std::vector<const RgbImage*>& images, int pad_to) const {
    if (images.size() == 1 && device_.kind == engine::DeviceKind::kCpu) {
      return Input(*images.front()).unsqueeze(0);  // no copy at all
    }
    const int64_t n = static_cast<int64_t>(images.size());
    int64_t rows = n;
    if (device_.kind == engine::DeviceKind::kCuda) {
      if (pad_to > 0) {
        rows = std::max<int64_t>(n, pad_to);
      } else {
        for (rows = 1; rows < n;) rows *= 2;
      }
    }
    at::Tensor batch = at::empty({rows, info_.input_height, info_.input_width, 3},
                                 at::TensorOptions().dtype(at::kFloat).device(engine::ToTorchDevice(device_)));
    if (rows > n) batch.narrow(0, n, rows - n).zero_();
    for (int64_t i = 0; i < n; ++i) {
      const RgbImage& image = *images[static_cast<size_t>(i)];
      if (image.prepared && image.prepared->ready) {
        image.prepared->ready->block(c10::impl::getDeviceGuardImpl(batch.device().type())->getStream(batch.device()));
      }
      batch[i].copy_(Input(image), /*non_blocking=*/true);
    }
    return batch;
  }

  // One photo as the network's input: float [H, W, 3], tf.image.resizeBilinear of the photo
  // (see AxisTaps), on the host or, for GPU-decoded pixels, on their GPU.
  at::Tensor Input(const RgbImage& image) const {
    if (image.prepared && image.prepared->model == info_.version) return image.prepared->input;
    if (image.device_pixels) return ResizeOnDevice(image);
    at::Tensor out = at::empty({info_.input_height, info_.input_width, 3}, at::TensorOptions().dtype(at::kFloat));
    ResizeOnHost(image, out);
    return out;
  }

  static constexpr size_t kUploadChunk = 16;  // inputs per pinned block, one copy each
  static constexpr size_t kStagingBlocks = 4;

  // tf.image.resizeBilinear (legacy: align_corners = half_pixel_centers = false) of the photo
  // at its full size, along one axis: output pixel i reads full-size coordinate
  // x = i * full / out, computed in float as TF does. For a JPEG decoded at DCT scale 1/k,
  // buffer pixel j is the average of full pixels [jk, jk + k), centred at jk + (k - 1) / 2, so
  // x lies at x / k - (k - 1) / (2k) in the buffer (k = 1: exactly TF's formula).
  // Built with -ffp-contract=off: every step rounds as TF's separate float32 ops do.
  struct AxisTaps {
    std::vector<int64_t> lo, hi;  // the two buffer pixels each output pixel reads
    std::vector<float> weight;    // of `hi`

    static AxisTaps Of(int64_t buffer, int64_t full, int64_t out) {
      AxisTaps taps;
      const float scale = static_cast<float>(full) / static_cast<float>(out);
      const float k = static_cast<float>(full) / static_cast<float>(buffer);
      for (int64_t i = 0; i < out; ++i) {
        float src = static_cast<float>(i) * scale;
        if (k != 1.0f) src = std::max(src / k - (k - 1) / (2 * k), 0.0f);
        const float floor_src = std::floor(src);
        taps.lo.push_back(std::min(static_cast<int64_t>(floor_src), buffer - 1));
        taps.hi.push_back(std::min(static_cast<int64_t>(std::ceil(src)), buffer - 1));
        taps.weight.push_back(src - floor_src);
      }
      return taps;
    }
  };

  // Into `out`, float [input_height, input_width, 3], contiguous.
  void ResizeOnHost(const RgbImage& image, at::Tensor& out) const {
    if (image.pixels.size() != static_cast<size_t>(image.width) * image.height * 3) {
      throw std::invalid_argument("pixel buffer is not width x height x 3 bytes");
    }
    const AxisTaps ys = AxisTaps::Of(image.height, image.full_height, info_.input_height);
    const AxisTaps xs = AxisTaps::Of(image.width, image.full_width, info_.input_width);
    float* o = out.data_ptr<float>();
    const size_t row = static_cast<size_t>(image.width) * 3;
    for (size_t y = 0; y < ys.lo.size(); ++y) {
      const uint8_t* top = image.pixels.data() + ys.lo[y] * row;
      const uint8_t* bottom = image.pixels.data() + ys.hi[y] * row;
      const float wy = ys.weight[y];
      for (size_t x = 0; x < xs.lo.size(); ++x) {
        const size_t l = xs.lo[x] * 3, r = xs.hi[x] * 3;
        const float wx = xs.weight[x];
        for (size_t c = 0; c < 3; ++c) {
          const float tl = top[l + c], tr = top[r + c], bl = bottom[l + c], br = bottom[r + c];
          const float t = tl + (tr - tl) * wx;
          const float b = bl + (br - bl) * wx;
          *o++ = t + (b - t) * wy;
        }
      }
    }
  }

  // The same on the device, for GPU-decoded pixels: one kernel (engine::ResizeBilinear).
  at::Tensor ResizeOnDevice(const RgbImage& image) const {
    return engine::ResizeBilinear(*image.device_pixels, TapsOnDevice(image, image.device_pixels->hwc.device()));
  }

  // A photo size's taps on a device. A library's photos come in a few sizes, so each size's
  // taps go up once and stay (never freed: other streams may still read them); sizes past
  // kCachedTapSizes are made per photo.
  static constexpr size_t kCachedTapSizes = 64;

  engine::ResizeTaps TapsOnDevice(const RgbImage& image, c10::Device device) const {
    const std::array<int64_t, 5> key = {image.height, image.full_height, image.width, image.full_width,
                                        device.index()};
    {
      std::lock_guard<std::mutex> lock(taps_mu_);
      if (auto it = taps_.find(key); it != taps_.end()) return it->second;
    }
    const AxisTaps ys = AxisTaps::Of(image.height, image.full_height, info_.input_height);
    const AxisTaps xs = AxisTaps::Of(image.width, image.full_width, info_.input_width);
    // One upload of all six; the taps are views of it.
    std::vector<int64_t> index;
    for (const auto* taps : {&ys.lo, &ys.hi, &xs.lo, &xs.hi}) index.insert(index.end(), taps->begin(), taps->end());
    std::vector<float> weight(ys.weight);
    weight.insert(weight.end(), xs.weight.begin(), xs.weight.end());
    const at::Tensor index_on_device = at::tensor(index, at::kLong).to(device);
    const at::Tensor weight_on_device = at::tensor(weight, at::kFloat).to(device);
    const int64_t h = info_.input_height, w = info_.input_width;
    const engine::ResizeTaps taps{index_on_device.narrow(0, 0, h),     index_on_device.narrow(0, h, h),
                                  index_on_device.narrow(0, 2 * h, w), index_on_device.narrow(0, 2 * h + w, w),
                                  weight_on_device.narrow(0, 0, h),    weight_on_device.narrow(0, h, w)};
    // Other threads' streams read cached taps: they must have landed first.
    c10::impl::getDeviceGuardImpl(device.type())->getStream(device).synchronize();
    std::lock_guard<std::mutex> lock(taps_mu_);
    if (taps_.size() < kCachedTapSizes) taps_.emplace(key, taps);
    return taps;
  }

  // CenterNet's decoding as the graph's tail does it, for a whole batch: peaks are heat-map
  // values equal to their 3x3 neighbourhood's maximum; the 100 best (over all classes) become
  // rows x1,y1,x2,y2,score,class in input pixels, the box spanning the predicted extents
  // around the peak's cell (cell size = input / heat-map size).
  at::Tensor DecodeHeads(const at::Tensor& keypoints_in, const at::Tensor& sizes_in) const {
    const at::Tensor keypoints = keypoints_in.to(at::kFloat);
    const at::Tensor sizes = sizes_in.to(at::kFloat);
    const int64_t batch = keypoints.size(0), height = keypoints.size(1), width = keypoints.size(2);
    const int64_t classes = keypoints.size(3);
    const float cell = static_cast<float>(info_.input_width) / static_cast<float>(width);
    const at::Tensor pooled =
        at::max_pool2d(keypoints.permute({0, 3, 1, 2}), {3, 3}, {1, 1}, {1, 1}).permute({0, 2, 3, 1});
    const at::Tensor peaks = keypoints * at::eq(keypoints, pooled).to(at::kFloat);
    auto [scores, index] = peaks.reshape({batch, -1}).topk(kTopK, 1, /*largest=*/true, /*sorted=*/true);
    const at::Tensor cls = at::remainder(index, classes);
    const at::Tensor pixel = at::floor_divide(index, classes);
    const at::Tensor x = at::remainder(pixel, width).to(at::kFloat), y = at::floor_divide(pixel, width).to(at::kFloat);
    const at::Tensor extents =
        sizes.reshape({batch, height * width, 4}).gather(1, pixel.unsqueeze(2).expand({batch, kTopK, 4}));
    return at::stack({x * cell - extents.select(2, 0), y * cell - extents.select(2, 1),
                      x * cell + extents.select(2, 2), y * cell + extents.select(2, 3), scores,
                      cls.to(at::kFloat)},
                     2);
  }

  // [N,6] rows of x1,y1,x2,y2,score,class in input pixels -> NMS -> boxes in the photo's pixels.
  std::vector<Detection> Postprocess(const at::Tensor& rows, const RgbImage& image,
                                     const DetectOptions& options) const {
    const int64_t n = rows.size(0);
    const float* r = rows.data_ptr<float>();
    std::vector<Box> boxes(n);
    std::vector<float> scores(n);
    for (int64_t i = 0; i < n; ++i) {
      const float* row = r + i * 6;
      // TF's NMS accepts corners in either order; ours wants them ordered.
      boxes[i] = Box{std::min(row[0], row[2]), std::min(row[1], row[3]), std::max(row[0], row[2]),
                     std::max(row[1], row[3])};
      scores[i] = std::isnan(row[4]) ? -1.0f : row[4];
    }
    NmsOptions nms;
    nms.iou_threshold = options.nms_iou;
    nms.score_min = options.score_min;
    nms.max_output = options.max_detections;
    const float sx = static_cast<float>(image.full_width) / info_.input_width;
    const float sy = static_cast<float>(image.full_height) / info_.input_height;
    std::vector<Detection> detections;
    for (int index : NonMaxSuppression(boxes, scores, {}, nms)) {
      const float* row = r + static_cast<int64_t>(index) * 6;
      const float class_value = row[5];
      if (std::isnan(class_value)) continue;
      const int class_id = static_cast<int>(class_value);
      if (class_id < 0 || class_id >= static_cast<int>(info_.labels.size())) continue;
      Detection d;
      d.class_id = class_id;
      d.label = info_.labels[class_id];
      d.score = row[4];
      const Box& b = boxes[index];
      d.box = Box{std::clamp(b.x1 * sx, 0.0f, float(image.full_width)),
                  std::clamp(b.y1 * sy, 0.0f, float(image.full_height)),
                  std::clamp(b.x2 * sx, 0.0f, float(image.full_width)),
                  std::clamp(b.y2 * sy, 0.0f, float(image.full_height))};
      detections.push_back(std::move(d));
    }
    return detections;
  }

  std::unique_ptr<tfjs::GraphModel> graph_;
  ModelInfo info_;
  engine::DeviceInfo device_;
  engine::Precision precision_;
  std::string input_name_;
  bool batched_decode_ = false;  // set once at load (EnableBatchedDecodeIfExact)
  // Detect's work on a GPU, on a stream of its own at normal priority, so no other thread
  // queues work on the stream its graph is captured on (see DeviceStream).
  engine::DeviceStream stream_{device_, engine::DeviceStream::Kind::kOwn};
  // Pinned blocks for Upload; its blocks are freed with the detector.
  engine::PinnedStagingPool staging_{
      {static_cast<int64_t>(kUploadChunk), info_.input_height, info_.input_width, 3}, kStagingBlocks};
  mutable struct {
    TimeAccumulator batching, network, postprocess;
    std::atomic<int64_t> images{0};
    TimeAccumulator staging_wait, staging_copy, device_alloc, copy_queue;
    std::atomic<int64_t> uploads{0};
  } times_;  // where Detect's and Upload's time goes (-v)
  mutable std::mutex taps_mu_;
  mutable std::map<std::array<int64_t, 5>, engine::ResizeTaps> taps_;  // GUARDED_BY(taps_mu_); see TapsOnDevice
  std::unique_ptr<engine::ForwardGraphs> graphs_ = std::make_unique<engine::ForwardGraphs>(device_);
};

}  // namespace

Result<std::unique_ptr<Detector>> LoadCenternetDetector(const ModelSpec& spec,
                                                        const engine::DeviceInfo& device) {
  const std::string& model_json_path = spec.path;
  auto graph = tfjs::GraphModel::Load(model_json_path, engine::ToTorchDevice(device));
  if (!graph.ok()) return graph.status();
  const auto& inputs = (*graph)->inputs();
  if (inputs.size() != 1 || inputs[0].shape.size() != 4 || inputs[0].shape[3] != 3) {
    return Unsupported(model_json_path + ": expected one image input [1,H,W,3]");
  }
  bool has_detections = false;
  for (const auto& output : (*graph)->outputs()) has_detections |= output.name == kDetectionsOutput;
  if (!has_detections) {
    return Unsupported(model_json_path + ": no '" + std::string(kDetectionsOutput) + "' output");
  }
  ModelInfo info;
  info.name = std::filesystem::path(model_json_path).stem().string();
  info.format = "tfjs-graph-model";
  info.input_height = static_cast<int>(inputs[0].shape[1] > 0 ? inputs[0].shape[1] : 512);
  info.input_width = static_cast<int>(inputs[0].shape[2] > 0 ? inputs[0].shape[2] : 512);
  info.labels = CocoLabels();
  info.decode_width = kDecodeMargin * info.input_width;
  info.decode_height = kDecodeMargin * info.input_height;
  // The version keys stored results: any change to the graph or the weights changes it.
  std::vector<std::string> files = {model_json_path};
  const auto bin = std::filesystem::path(model_json_path).replace_extension(".bin");
  if (std::filesystem::exists(bin)) files.push_back(bin.string());
  auto version = HashFilesHex(files);
  if (!version.ok()) return version.status();
  info.version = *version;
  auto detector = std::make_unique<CenternetDetector>(std::move(graph).value(), std::move(info), device,
                                                      spec.precision, inputs[0].name);
  Status checked = engine::CatchTorch("centernet self-check", [&] { detector->EnableBatchedDecodeIfExact(); });
  if (!checked.ok()) return checked.WithContext(model_json_path);
  return std::unique_ptr<Detector>(std::move(detector));
}

}  // namespace mediadex::model
