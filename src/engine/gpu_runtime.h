// GPU execution helpers for engine/ and model/ (LibTorch types): a stream of one's own, CUDA
// Graph replay of a fixed-shape forward pass, and the opaque pixel/input holders of
// core/image.h. Everything here works (as plain eager LibTorch) in builds without CUDA.
#ifndef MEDIADEX_ENGINE_GPU_RUNTIME_H_
#define MEDIADEX_ENGINE_GPU_RUNTIME_H_

#include <ATen/Tensor.h>
#include <c10/core/Event.h>
#include <c10/core/Stream.h>
#include <c10/core/StreamGuard.h>

#include <functional>
#include <memory>
#include <mutex>
#include <c10/util/Optional.h>
#include <string>

#include "engine/cuda/epilogue.h"
#include "engine/device.h"

namespace mediadex {

// A photo decoded on a GPU: uint8 [H, W, 3] as stored in the file, full size, on that GPU,
// and the EXIF orientation that turns it upright (applied by whoever reads it: the resize
// kernel folds it into its addressing, Upright() makes the upright copy). `written`, when set,
// marks the end of the work that writes them on another stream (nvJPEG's): Upright and
// ResizeBilinear make the current stream wait for it.
struct DevicePixels {
  at::Tensor hwc;
  int orientation = 1;
  std::shared_ptr<const c10::Event> written;
};

// A photo turned into a model's input: the model's own layout, on the device the model runs on
// (the host or a GPU). On a GPU, `ready` (when set) marks the end of the work that makes it:
// users wait for it on their own stream (inputs uploaded together share one).
// `model` names the model that made it (ModelInfo::version); another model makes its own.
struct PreparedInput {
  std::string model;
  at::Tensor input;
  std::shared_ptr<const c10::Event> ready;
};

}  // namespace mediadex

namespace mediadex::engine {

// The photo upright: uint8 [H, W, 3] on its GPU (a view when no turn is needed), for the
// current stream.
at::Tensor Upright(const DevicePixels& pixels);

// Where each output pixel of a bilinear resize reads its source (two rows, two columns and the
// weights of the second), on the source's GPU: the upright photo (model/centernet_detector.cpp
// makes these) or a network's activations (model/tfjs/ops/resize.cpp).
struct ResizeTaps {
  at::Tensor rows_lo, rows_hi, cols_lo, cols_hi;  // int64 [out_height] or [out_width]
  at::Tensor row_weight, col_weight;               // float, the same lengths
};

// The upright photo resized: float [out_height, out_width, 3] on its GPU, queued on the current
// stream by one kernel that reads the stored pixels through their orientation (no upright copy
// is made). Rounds as the host resize does, bit for bit.
at::Tensor ResizeBilinear(const DevicePixels& pixels, const ResizeTaps& taps);

// The network's own CUDA kernels (cuda/*.cu): the layers where LibTorch's ops would cost extra
// passes over memory. Each takes contiguous float32 on one GPU and queues one kernel on the
// current stream. HasCudaKernels: whether this build has them (CUDA builds); elsewhere they throw.
bool HasCudaKernels();

// A depthwise convolution (one filter per channel) of NHWC activations with its activation as
// epilogue. LibTorch's own depthwise kernel wants NCHW (two layout copies per layer) and cuDNN's
// NHWC ones cost cuDNN 9 ~0.15 s of planning per layer and shape. x [N, H, W, C], weight
// [kh, kw, C] (TF's layout), bias [C] or undefined; padding may differ on each side (TF's SAME).
struct DepthwiseWindow {
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
};
at::Tensor DepthwiseConv2dNhwc(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                               const DepthwiseWindow& window, const Epilogue& epilogue = {});

// TF's ResizeBilinear of NHWC activations: `taps` say which two rows and columns each output
// pixel mixes and how (on x's GPU). One kernel instead of LibTorch's dozen gathers and
// lerps; rounds as they do, bit for bit.
at::Tensor ResizeBilinearNhwc(const at::Tensor& x, const ResizeTaps& taps);

// `epilogue` applied to every value of x (in place when `in_place`): hard-swish in one pass
// where the graph has four ops.
at::Tensor Activate(const at::Tensor& x, const Epilogue& epilogue, bool in_place);

// A CUDA stream on a GPU (nothing elsewhere). Work that several threads queue on the legacy
// default stream runs one after another; each on its own stream, the GPU decoder, the uploads
// and the network overlap.
//
// kPooled streams come round robin from LibTorch's pool, which every caller shares: fine for
// short work. kOwn streams are made for their owner alone and destroyed with it: the detector
// runs (and captures its CUDA Graph) on one, so no other thread's stream is ever the one being
// captured (work queued on a captured stream from elsewhere breaks the capture); each nvJPEG
// worker's batches are allocated, and marked written after its decode, on one (gpu_jpeg.cpp).
class DeviceStream {
 public:
  enum class Kind { kPooled, kOwn };
  explicit DeviceStream(const DeviceInfo& device, Kind kind = Kind::kPooled);
  // Makes the stream current for the calling thread while the guard lives.
  c10::OptionalStreamGuard Use() const { return c10::OptionalStreamGuard(stream_); }
  void Synchronize() const;
  const c10::optional<c10::Stream>& stream() const { return stream_; }

 private:
  c10::optional<c10::Stream> stream_;  // c10::optional: std::optional in newer LibTorch
  std::shared_ptr<void> owned_;        // a kOwn stream: synchronised and destroyed with the last copy
};

// A forward pass of fixed-shape inputs, captured once as a CUDA Graph and replayed: one launch
// instead of hundreds of small kernels, which bound a batch of 64 at ~800 images/s on an H100
// (docs/performance.md). The first calls of each input shape run eagerly (they also let cuDNN
// pick its algorithms); then the shape is captured. Where capture is unavailable (CPU builds,
// other devices) or fails (an op that needs the host mid-graph), forward runs eagerly, always.
// Thread-safe: calls are serialised, since a graph's buffers are shared.
class ForwardGraphs {
 public:
  // Calls of one shape until it runs as a graph: eager ones, then the one that captures it.
  static constexpr int kRunsUntilReplay = 3;
  using Forward = std::function<at::Tensor(const at::Tensor&)>;
  explicit ForwardGraphs(const DeviceInfo& device);
  ~ForwardGraphs();
  ForwardGraphs(const ForwardGraphs&) = delete;
  ForwardGraphs& operator=(const ForwardGraphs&) = delete;

  // forward(input), copied to the host. Runs on the caller's current stream, which must not be
  // the default one on a GPU (see DeviceStream).
  at::Tensor RunToHost(const at::Tensor& input, const Forward& forward);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mediadex::engine

#endif  // MEDIADEX_ENGINE_GPU_RUNTIME_H_
