// JPEG decoding on an NVIDIA GPU with nvJPEG, on the GPU's hardware JPEG decoder where it has
// one (A100, H100...), else on its CUDA cores. Pixels land in GPU memory at full size, as
// stored, with the EXIF orientation that turns them upright (RgbImage::device_pixels; the
// image's width and height are the upright ones), ready for a detector's Prepare. No LibTorch
// types here.
//
//   auto decoder = engine::GpuJpegDecoder::Create(cuda_device);   // Unsupported without CUDA
//   auto images = (*decoder)->Decode({{bytes, size, orientation}, ...});
//   // images[i]: an RgbImage with device_pixels, or why nvJPEG refused that file (decode it on
//   // the CPU instead: progressive JPEGs on the hardware decoder, CMYK, damaged files ...).
//
// Thread safety: one thread at a time per decoder; more workers on one GPU come from
// AnotherWorker, which shares the GPU's nvJPEG context. The hardware decoder is one per GPU:
// two workers decoding at once share it, so a pipeline keeps reading and checking (Check) off
// the threads that decode.
#ifndef MEDIADEX_ENGINE_GPU_JPEG_H_
#define MEDIADEX_ENGINE_GPU_JPEG_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/image.h"
#include "core/status.h"
#include "engine/device.h"

namespace mediadex::engine {

// Whether a JPEG's end-of-image marker (FF D9) lies in its last kJpegEndWindow bytes. nvJPEG's
// hardware decoder decodes a file cut short without a word (grey rows at the bottom), so Check
// refuses such files and the CPU decoder reports them as truncated. A photo followed by more
// than that (phones append a video to a "motion photo") is refused too, and is merely decoded
// on the CPU. The marker cannot occur inside the compressed data (0xFF there is followed by 0).
inline constexpr size_t kJpegEndWindow = 64 * 1024;
bool JpegEndsWhole(const uint8_t* data, size_t size);

// Which of nvJPEG's decoders a worker drives.
enum class GpuJpegEngine {
  kBatched,     // the GPU's nvJPEG backend, a batch per call: the hardware JPEG engine where there is one
  kGpuHuffman,  // nvJPEG's GPU_HYBRID decoder on the CUDA cores, Huffman decoding included, a file at a time
};

class GpuJpegDecoder {
 public:
  struct Library;  // a GPU's nvJPEG context, shared by its workers

  struct Input {
    const uint8_t* data = nullptr;
    size_t size = 0;
    int orientation = 1;  // EXIF orientation to apply (1..8)
    // The size as stored, once Check passed the file (Decode checks the others itself).
    unsigned width = 0, height = 0;
  };

  // Unsupported when this build has no CUDA or `device` is not a CUDA GPU; DeviceError when
  // nvJPEG cannot start there.
  static Result<std::unique_ptr<GpuJpegDecoder>> Create(const DeviceInfo& device);
  // Starts nvJPEG on `device` on a thread of its own (the hardware backend takes ~0.6 s on an
  // H100), for the next Create there to take: call it before loading a model. What no Create
  // took is freed when the returned token goes (keep it until the decoders are made). Does
  // nothing where Create would say Unsupported.
  class BackgroundStart {
   public:
    explicit BackgroundStart(int device_index) : device_index_(device_index) {}
    ~BackgroundStart();
    BackgroundStart(const BackgroundStart&) = delete;
    BackgroundStart& operator=(const BackgroundStart&) = delete;

   private:
    [[maybe_unused]] int device_index_;  // read by the CUDA build's destructor
  };
  [[nodiscard]] static std::unique_ptr<BackgroundStart> StartInBackground(const DeviceInfo& device);
  // A decoder for another thread on the same GPU, sharing this one's nvJPEG context. A
  // kGpuHuffman worker decodes beside the hardware engine (a second decoder on the same GPU:
  // the CPU's Huffman stage is what limits nvJPEG's other backends on big photos); it takes
  // the files Check passed on a kBatched one.
  Result<std::unique_ptr<GpuJpegDecoder>> AnotherWorker(GpuJpegEngine engine = GpuJpegEngine::kBatched) const;
  ~GpuJpegDecoder();
  GpuJpegDecoder(const GpuJpegDecoder&) = delete;
  GpuJpegDecoder& operator=(const GpuJpegDecoder&) = delete;

  // "hardware" (the GPU's JPEG engine), "cuda" (nvJPEG on the CUDA cores) or "gpu-huffman"
  // (a kGpuHuffman worker).
  const std::string& backend() const;
  // Whether nvJPEG runs in a CUDA context of its own, away from the network's (the fast way:
  // engine/gpu_jpeg.cpp), rather than in the process's.
  bool has_own_context() const;

  // Whether nvJPEG here decodes the file (a file it refuses would fail the whole batch):
  // Unsupported with the reason (progressive JPEGs on the hardware decoder, CMYK, cut short
  // (JpegEndsWhole), damaged...),
  // else Ok with input->width and height set. Parses the whole file (~0.5 ms for 4 MB), so
  // pipelines check on the threads that read, while other decoders decode.
  Status Check(Input* input);

  // Decodes every input in one batch. Returns once the batch is queued on the GPU (after the
  // previous batch of this decoder is done), so the caller reads the next batch while the GPU
  // decodes this one; the inputs' bytes may go when it returns. The pixels are complete when
  // their DevicePixels::written event is: engine::Upright and engine::ResizeBilinear wait for
  // it on the current stream.
  std::vector<Result<RgbImage>> Decode(const std::vector<Input>& inputs);

 private:
  struct Impl;
  explicit GpuJpegDecoder(std::unique_ptr<Impl> impl);
  static Result<std::unique_ptr<GpuJpegDecoder>> Worker(const DeviceInfo& device, std::shared_ptr<const Library> library,
                                                        GpuJpegEngine engine);
  static Result<std::shared_ptr<const Library>> StartLibrary(const DeviceInfo& device);  // catches LibTorch's errors
  static Result<std::shared_ptr<const Library>> StartLibraryOn(const DeviceInfo& device);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mediadex::engine

#endif  // MEDIADEX_ENGINE_GPU_JPEG_H_
