// HEIF/HEIC/AVIF through libheif: the primary image, with libheif applying the file's own
// rotation/mirror/crop boxes (so EXIF orientation is never applied on top). Built only when
// MEDIADEX_WITH_HEIF; otherwise each file fails with Unsupported.
#include <cstring>
#include <string>

#include "media/decode_internal.h"

#ifdef MEDIADEX_WITH_HEIF
#include <libheif/heif.h>

#include <memory>
#include <mutex>
#include <vector>
#endif

namespace mediadex::media::internal {

#ifndef MEDIADEX_WITH_HEIF

Result<HeaderInfo> ProbeHeif(const uint8_t*, size_t, const DecodeOptions&) {
  return Unsupported("HEIF support not in this build");
}
Result<RgbImage> DecodeHeif(const uint8_t*, size_t, const DecodeOptions&) {
  return Unsupported("HEIF support not in this build");
}

#else

namespace {

struct ContextDeleter {
  void operator()(heif_context* c) const { heif_context_free(c); }
};
struct HandleDeleter {
  void operator()(heif_image_handle* h) const { heif_image_handle_release(h); }
};
struct ImageDeleter {
  void operator()(heif_image* i) const { heif_image_release(i); }
};

Status HeifError(const heif_error& error) {
  const std::string text = error.message != nullptr ? error.message : "unknown error";
  if (error.code == heif_error_Unsupported_feature || error.code == heif_error_Unsupported_filetype) {
    return Unsupported("HEIF variant not supported: " + text);
  }
  // A declared size over libheif's security limits is the file's fault, not the allocator's
  // (OutOfMemory would make the indexer lower its decode concurrency and retry the file).
  if (error.subcode == heif_suberror_Security_limit_exceeded) return Corrupt("truncated or corrupt HEIF: " + text);
  if (error.code == heif_error_Memory_allocation_error) return OutOfMemory("HEIF: " + text);
  return Corrupt("truncated or corrupt HEIF: " + text);
}

// The parsed boxes of a file and its primary image; no pixels decoded yet.
struct OpenHeif {
  std::unique_ptr<heif_context, ContextDeleter> context;
  std::unique_ptr<heif_image_handle, HandleDeleter> handle;
  int width = 0;   // after libheif's transformations (upright)
  int height = 0;
};

Result<OpenHeif> Open(const uint8_t* data, size_t size, const DecodeOptions& options) {
  static std::once_flag init;
  std::call_once(init, [] { heif_init(nullptr); });  // loads plugins once; never deinit
  OpenHeif heif;
  heif.context.reset(heif_context_alloc());
  if (!heif.context) return OutOfMemory("cannot create a HEIF decoder");
  // Refuses huge images (and grids of huge tiles) while parsing: our limit, capped to libheif's.
  const uint64_t side = options.max_pixels < (1ull << 31) ? options.max_pixels : (1ull << 31) - 1;
  heif_context_set_maximum_image_size_limit(heif.context.get(), static_cast<int>(side > 1 ? side : 1));
  heif_error error = heif_context_read_from_memory_without_copy(heif.context.get(), data, size, nullptr);
  if (error.code != heif_error_Ok) return HeifError(error);
  heif_image_handle* handle = nullptr;
  error = heif_context_get_primary_image_handle(heif.context.get(), &handle);
  if (error.code != heif_error_Ok) return HeifError(error);
  heif.handle.reset(handle);
  heif.width = heif_image_handle_get_width(handle);
  heif.height = heif_image_handle_get_height(handle);
  if (heif.width <= 0 || heif.height <= 0) return Corrupt("truncated or corrupt HEIF: no image size");
  MDX_RETURN_IF_ERROR(CheckPixelLimit(heif.width, heif.height, options.max_pixels));
  return heif;
}

int64_t CaptureTime(heif_image_handle* handle) {
  heif_item_id id = 0;
  if (heif_image_handle_get_list_of_metadata_block_IDs(handle, "Exif", &id, 1) != 1) return 0;
  const size_t size = heif_image_handle_get_metadata_size(handle, id);
  if (size < 8 || size > (16u << 20)) return 0;
  std::vector<uint8_t> block(size);
  if (heif_image_handle_get_metadata(handle, id, block.data()).code != heif_error_Ok) return 0;
  // 4 bytes of offset to the TIFF header come first.
  const uint32_t skip = (block[0] << 24) | (block[1] << 16) | (block[2] << 8) | block[3];
  if (skip > size - 8) return 0;
  return ReadExif(block.data() + 4 + skip, size - 4 - skip).capture_time;
}

}  // namespace

Result<HeaderInfo> ProbeHeif(const uint8_t* data, size_t size, const DecodeOptions& options) {
  auto heif = Open(data, size, options);
  if (!heif.ok()) return heif.status();
  HeaderInfo info;
  info.width = heif->width;
  info.height = heif->height;
  info.capture_time = CaptureTime(heif->handle.get());
  const uint64_t pixels = static_cast<uint64_t>(info.width) * info.height;
  // Decoded planes (up to 16-bit 4:4:4 + alpha: 8 B/px), the codec's reference frames
  // (about as much again), libheif's interleaved RGB and our unpadded copy (3 B/px each).
  info.decode_bytes = pixels * (8 + 8 + 3 + 3) + kDecoderOverheadBytes;
  return info;
}

Result<RgbImage> DecodeHeif(const uint8_t* data, size_t size, const DecodeOptions& options) {
  // libheif 1.15 has no progress or cancel callback: the limit is checked between its steps.
  const Deadline deadline(options.max_decode_seconds);
  auto heif = Open(data, size, options);
  if (!heif.ok()) return heif.status();
  if (deadline.Passed()) return deadline.Error();
  heif_image* decoded = nullptr;
  // Default options: transformations applied, alpha dropped by asking for interleaved RGB.
  heif_error error = heif_decode_image(heif->handle.get(), &decoded, heif_colorspace_RGB,
                                       heif_chroma_interleaved_RGB, nullptr);
  if (error.code != heif_error_Ok) return HeifError(error);
  std::unique_ptr<heif_image, ImageDeleter> img(decoded);
  if (deadline.Passed()) return deadline.Error();
  const int width = heif_image_get_width(decoded, heif_channel_interleaved);
  const int height = heif_image_get_height(decoded, heif_channel_interleaved);
  int stride = 0;
  const uint8_t* plane = heif_image_get_plane_readonly(decoded, heif_channel_interleaved, &stride);
  if (plane == nullptr || width <= 0 || height <= 0 || stride < width * 3) {
    return Corrupt("truncated or corrupt HEIF: decoder returned no RGB image");
  }
  // The header's size (ispe) is what ProbeImage promised and the memory budget used.
  if (width != heif->width || height != heif->height) {
    return Corrupt("truncated or corrupt HEIF: decoded " + std::to_string(width) + "x" + std::to_string(height) +
                   " but the header says " + std::to_string(heif->width) + "x" + std::to_string(heif->height));
  }
  RgbImage image;
  image.width = image.full_width = width;
  image.height = image.full_height = height;
  image.pixels.resize(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    std::memcpy(image.pixels.data() + static_cast<size_t>(y) * width * 3,
                plane + static_cast<size_t>(y) * stride, static_cast<size_t>(width) * 3);
  }
  return image;
}

#endif  // MEDIADEX_WITH_HEIF

}  // namespace mediadex::media::internal
