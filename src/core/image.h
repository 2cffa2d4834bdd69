// Decoded pixels as they travel from media/ (decoders) to model/ (detectors).
#ifndef MEDIADEX_CORE_IMAGE_H_
#define MEDIADEX_CORE_IMAGE_H_

#include <cstdint>
#include <memory>
#include <vector>

namespace mediadex {

// Opaque outside the modules that make them (engine/ and model/, which hold LibTorch types):
// a photo's pixels decoded into GPU memory, and a photo already turned into a model's input.
struct DevicePixels;
struct PreparedInput;
struct RgbImage;

// A crop of a photo for tiled detection (model/tiled_detector.h): the crop as an image of its
// own (pixels, or its prepared input) and where its top-left lies in the photo's full-size pixels.
struct ImageTile {
  float x = 0;
  float y = 0;
  std::shared_ptr<RgbImage> image;
};

// 8-bit RGB, row-major HWC, no padding: pixels.size() == width * height * 3.
// EXIF orientation has already been applied, so (0,0) is the top-left as a person sees it.
// `width`/`height` describe the buffer, which a decoder may have shrunk (JPEG DCT scaling);
// `full_width`/`full_height` are the upright size of the photo itself, the space that
// detection boxes are reported in.
struct RgbImage {
  int width = 0;
  int height = 0;
  int full_width = 0;
  int full_height = 0;
  std::vector<uint8_t> pixels;
  // Set instead of `pixels` when a GPU decoded the photo (engine/gpu_jpeg.h).
  std::shared_ptr<const DevicePixels> device_pixels;
  // Set by model::Detector::Prepare, which then drops the pixels: the detector's input, made
  // on a decode thread so the detector's own thread only batches and runs the network.
  std::shared_ptr<const PreparedInput> prepared;
  // Set by a tiling detector's Prepare: the tiles cut from these pixels before they were
  // dropped, each prepared, so the photo is decoded once and its tiles batch with other photos.
  std::vector<ImageTile> tiles;

  // Which of the three an image is: readers ask this instead of testing the fields.
  enum class Form { kHostPixels, kDevicePixels, kPrepared };
  Form form() const { return prepared ? Form::kPrepared : device_pixels ? Form::kDevicePixels : Form::kHostPixels; }
};

}  // namespace mediadex

#endif  // MEDIADEX_CORE_IMAGE_H_
