// PNG through libpng's classic API (the simplified API composites alpha and applies gamma,
// which TF.js does not do).
#include <png.h>

#include <csetjmp>
#include <cstring>
#include <string>
#include <vector>

#include "media/decode_internal.h"

namespace mediadex::media::internal {
namespace {

// Everything the libpng callbacks and the setjmp'ing function touch lives here, owned by the
// caller, so that a longjmp never skips a C++ destructor or leaves a local indeterminate.
struct PngState {
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  char error[256] = {0};
  const DecodeOptions* options = nullptr;
  const Deadline* deadline = nullptr;
  // Outputs.
  bool over_limit = false;
  bool timed_out = false;
  png_uint_32 width = 0, height = 0;
  int orientation = 1;
  RgbImage* image = nullptr;
  std::vector<uint8_t>* scratch = nullptr;  // whole decoded image when it has 4 channels
};

void ReadCallback(png_structp png, png_bytep out, png_size_t length) {
  auto* state = static_cast<PngState*>(png_get_io_ptr(png));
  if (length > state->size - state->pos) png_error(png, "truncated PNG: a chunk runs past the end of the file");
  std::memcpy(out, state->data + state->pos, length);
  state->pos += length;
}

void ErrorCallback(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngState*>(png_get_error_ptr(png));
  std::strncpy(state->error, message != nullptr ? message : "unknown error", sizeof(state->error) - 1);
  png_longjmp(png, 1);
}

void WarningCallback(png_structp, png_const_charp) {}  // benign (bad ancillary chunks, etc.)

// Bounds what libpng allocates for chunks. No chunk can hold more than the file's bytes, and
// libpng 1.6.39 treats an ancillary chunk over its malloc limit as a benign error and then
// allocates the declared length anyway (a tEXt declaring 2^31 bytes cost 2 GB of RSS), so the
// ancillary chunks mediadex never reads (text, ICC, gamma, ...) are skipped unread: only
// eXIf (orientation) is still handled, and tRNS/PLTE, which libpng always keeps.
void LimitAllocations(png_structp png, size_t file_size, uint64_t max_pixels) {
  constexpr png_alloc_size_t kChunkCap = 8u << 20;  // libpng's own default
  png_set_chunk_malloc_max(png, file_size + 1 < kChunkCap ? file_size + 1 : kChunkCap);
  png_set_chunk_cache_max(png, 128);
  const png_uint_32 side = max_pixels < 0x7FFFFFFFu ? static_cast<png_uint_32>(max_pixels) : 0x7FFFFFFFu;
  png_set_user_limits(png, side > 0 ? side : 1, side > 0 ? side : 1);
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, nullptr, -1);  // all ancillary ones
  static const png_byte kKept[] = {'e', 'X', 'I', 'f', '\0'};
  png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_AS_DEFAULT, kKept, 1);
}

uint32_t Be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

// Returns false with state->error set when libpng failed. No C++ objects with destructors are
// created in this function.
bool DecodePngRaw(png_structp png, png_infop info, PngState* state) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_read_fn(png, state, ReadCallback);
  LimitAllocations(png, state->size, state->options->max_pixels);
  png_read_info(png, info);

  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, nullptr, nullptr);
  state->width = width;
  state->height = height;
  if (!CheckPixelLimit(width, height, state->options->max_pixels).ok()) {
    state->over_limit = true;
    return true;
  }
#ifdef PNG_eXIf_SUPPORTED
  png_bytep exif = nullptr;
  png_uint_32 exif_size = 0;
  if (state->options->apply_orientation && png_get_eXIf_1(png, info, &exif_size, &exif) != 0 &&
      exif != nullptr) {
    state->orientation = ExifOrientation(exif, exif_size);
  }
#endif

  // 16 -> 8 bits by dropping the low byte (png_set_strip_16), as TensorFlow's DecodePng does.
  if (bit_depth == 16) png_set_strip_16(png);
  if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) {
    png_set_gray_to_rgb(png);
  }
  // Alpha is dropped, not composited (TF.js decodePng with 3 channels).
  if (color_type & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
  const int passes = png_set_interlace_handling(png);
  png_read_update_info(png, info);

  const png_byte channels = png_get_channels(png, info);
  if (channels != 3 && channels != 4) png_error(png, "unexpected channel count after transforms");
  const size_t row_bytes = png_get_rowbytes(png, info);
  if (row_bytes != static_cast<size_t>(width) * channels) png_error(png, "unexpected row size");

  RgbImage* image = state->image;
  image->width = image->full_width = static_cast<int>(width);
  image->height = image->full_height = static_cast<int>(height);
  image->pixels.resize(static_cast<size_t>(width) * height * 3);
  uint8_t* base = image->pixels.data();
  if (channels == 4) {  // palette + tRNS expands to RGBA: decode whole, then drop alpha
    state->scratch->resize(row_bytes * height);
    base = state->scratch->data();
  }
  // Row by row (an array of row pointers for a 1x100M image would be 800 MB); for interlaced
  // files libpng merges each pass into the rows already there.
  for (int pass = 0; pass < passes; ++pass) {
    for (png_uint_32 y = 0; y < height; ++y) {
      if (y % 16 == 0 && state->deadline->Passed()) {
        state->timed_out = true;
        png_error(png, "decode time limit");
      }
      png_read_row(png, base + y * row_bytes, nullptr);
    }
  }
  if (channels == 4) {
    const uint8_t* src = state->scratch->data();
    uint8_t* dst = image->pixels.data();
    const size_t count = static_cast<size_t>(width) * height;
    for (size_t i = 0; i < count; ++i, src += 4, dst += 3) {
      dst[0] = src[0];
      dst[1] = src[1];
      dst[2] = src[2];
    }
  }
  // The trailing chunks (IEND) are not needed; a file cut after the last IDAT still decodes.
  return true;
}

}  // namespace

Status CheckPngDeclaredSizes(const uint8_t* data, size_t size, uint64_t max_pixels) {
  if (size < 8 + 8 + 13 || std::memcmp(data + 12, "IHDR", 4) != 0) {
    return Corrupt("truncated or corrupt PNG: no IHDR chunk");
  }
  const uint64_t width = Be32(data + 16), height = Be32(data + 20);
  MDX_RETURN_IF_ERROR(CheckPixelLimit(width, height, max_pixels));
  const int bit_depth = data[24], color_type = data[25];
  const int channels = color_type == 2 ? 3 : color_type == 4 ? 2 : color_type == 6 ? 4 : 1;
  // Image data present: the IDAT chunks' bytes up to the end of the file (a chunk declaring
  // more than is left counts what is left).
  // A chunk before the image data that declares more bytes than are left is refused here:
  // libpng allocates a kept chunk (eXIf) at its declared length before reading it, over its
  // own limit too (found by the fuzzer under -malloc_limit_mb). IDAT is streamed, not allocated.
  uint64_t idat = 0;
  bool seen_idat = false;
  size_t pos = 8;
  while (pos + 8 <= size) {
    const uint64_t length = Be32(data + pos);
    const uint8_t* type = data + pos + 4;
    const uint64_t left = size - pos - 8;
    const bool is_idat = std::memcmp(type, "IDAT", 4) == 0;
    seen_idat = seen_idat || is_idat;
    if (is_idat) idat += length < left ? length : left;
    if (!seen_idat && length + 4 > left) {
      return Corrupt("truncated or corrupt PNG: chunk '" + std::string(reinterpret_cast<const char*>(type), 4) +
                     "' declares " + std::to_string(length) + " bytes but the file has " + std::to_string(left) +
                     " left");
    }
    if (std::memcmp(type, "IEND", 4) == 0 || length + 4 > left) break;
    pos += 12 + static_cast<size_t>(length);
  }
  // The rows' samples (filter bytes and Adam7's padding only add to it); sides < 2^32.
  const uint64_t pixels = width * height;
  const uint64_t needed = pixels >> 56 != 0 ? UINT64_MAX : pixels * channels * bit_depth / 8;
  const uint64_t most = idat * 1032 + 4096;  // deflate inflates 1032:1 at most
  if (needed <= most) return Status::Ok();
  return Corrupt("truncated or corrupt PNG: IHDR declares " + std::to_string(width) + "x" + std::to_string(height) +
                 " but its " + std::to_string(idat) + " bytes of image data inflate to " + std::to_string(most) +
                 " bytes at most, not the " + std::to_string(needed) + " its rows need");
}

Result<RgbImage> DecodePng(const uint8_t* data, size_t size, const DecodeOptions& options) {
  const Deadline deadline(options.max_decode_seconds);
  MDX_RETURN_IF_ERROR(CheckPngDeclaredSizes(data, size, options.max_pixels));
  RgbImage image;
  std::vector<uint8_t> scratch;
  PngState state;
  state.deadline = &deadline;
  state.data = data;
  state.size = size;
  state.options = &options;
  state.image = &image;
  state.scratch = &scratch;

  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &state, ErrorCallback, WarningCallback);
  if (png == nullptr) return OutOfMemory("cannot create a PNG decoder");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return OutOfMemory("cannot create a PNG decoder");
  }
  const bool ok = DecodePngRaw(png, info, &state);
  png_destroy_read_struct(&png, &info, nullptr);
  if (state.timed_out) return deadline.Error();
  if (!ok) return Corrupt(std::string("truncated or corrupt PNG: ") + state.error);
  if (state.over_limit) {
    return CheckPixelLimit(state.width, state.height, options.max_pixels);
  }
  ApplyOrientation(state.orientation, &image);
  return image;
}

}  // namespace mediadex::media::internal
