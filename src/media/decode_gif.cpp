// GIF through giflib, first frame only. Not DGifSlurp: it decodes every frame of an animation
// into memory before we could look at a size; here the screen and frame sizes are checked
// against max_pixels first and only the first frame's rows are decoded.
#include <gif_lib.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "media/decode_internal.h"

namespace mediadex::media::internal {
namespace {

struct MemoryReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

int ReadGif(GifFileType* gif, GifByteType* out, int length) {
  auto* reader = static_cast<MemoryReader*>(gif->UserData);
  if (length <= 0) return 0;
  const size_t n = std::min(static_cast<size_t>(length), reader->size - reader->pos);
  std::memcpy(out, reader->data + reader->pos, n);
  reader->pos += n;
  return static_cast<int>(n);
}

struct GifCloser {
  void operator()(GifFileType* gif) const {
    int error = 0;
    DGifCloseFile(gif, &error);
  }
};
using GifHandle = std::unique_ptr<GifFileType, GifCloser>;

Status GifError(int code) {
  const char* text = GifErrorString(code);
  return Corrupt(std::string("truncated or corrupt GIF: ") + (text != nullptr ? text : "unknown error"));
}

Result<GifHandle> OpenGif(MemoryReader* reader) {
  int error = 0;
  GifHandle gif(DGifOpen(reader, ReadGif, &error));
  if (!gif) return GifError(error);
  if (gif->SWidth <= 0 || gif->SHeight <= 0) return Corrupt("truncated or corrupt GIF: no screen size");
  return gif;
}

}  // namespace

Result<HeaderInfo> ProbeGif(const uint8_t* data, size_t size, const DecodeOptions& options) {
  MemoryReader reader{data, size, 0};
  auto gif = OpenGif(&reader);
  if (!gif.ok()) return gif.status();
  HeaderInfo info;
  info.width = (*gif)->SWidth;
  info.height = (*gif)->SHeight;
  MDX_RETURN_IF_ERROR(CheckPixelLimit(info.width, info.height, options.max_pixels));
  // Canvas + one row of indices + giflib's LZW state.
  info.decode_bytes = static_cast<uint64_t>(info.width) * info.height * 3 + info.width + kDecoderOverheadBytes;
  return info;
}

Result<RgbImage> DecodeGif(const uint8_t* data, size_t size, const DecodeOptions& options) {
  const Deadline deadline(options.max_decode_seconds);
  MemoryReader reader{data, size, 0};
  auto opened = OpenGif(&reader);
  if (!opened.ok()) return opened.status();
  GifFileType* gif = opened->get();
  const int sw = gif->SWidth, sh = gif->SHeight;
  MDX_RETURN_IF_ERROR(CheckPixelLimit(sw, sh, options.max_pixels));

  int transparent = -1;
  for (;;) {
    GifRecordType type = UNDEFINED_RECORD_TYPE;
    if (DGifGetRecordType(gif, &type) == GIF_ERROR) return GifError(gif->Error);
    if (type == TERMINATE_RECORD_TYPE) return Corrupt("truncated or corrupt GIF: no image in the file");
    if (type == EXTENSION_RECORD_TYPE) {
      int code = 0;
      GifByteType* block = nullptr;
      if (DGifGetExtension(gif, &code, &block) == GIF_ERROR) return GifError(gif->Error);
      while (block != nullptr) {
        if (code == GRAPHICS_EXT_FUNC_CODE && block[0] >= 4 && (block[1] & 1)) transparent = block[4];
        if (DGifGetExtensionNext(gif, &block) == GIF_ERROR) return GifError(gif->Error);
      }
      continue;
    }
    if (type != IMAGE_DESC_RECORD_TYPE) continue;
    if (DGifGetImageDesc(gif) == GIF_ERROR) return GifError(gif->Error);
    const GifImageDesc& desc = gif->Image;
    if (desc.Width <= 0 || desc.Height <= 0) return Corrupt("truncated or corrupt GIF: empty frame");
    MDX_RETURN_IF_ERROR(CheckPixelLimit(desc.Width, desc.Height, options.max_pixels));
    // Only what lies on the screen is drawn; a frame with more pixels than the whole screen
    // would make giflib decode (CPU time) what is then thrown away.
    if (static_cast<uint64_t>(desc.Width) * desc.Height > static_cast<uint64_t>(sw) * sh) {
      return Corrupt("truncated or corrupt GIF: frame of " + std::to_string(desc.Width) + "x" +
                     std::to_string(desc.Height) + " is larger than the " + std::to_string(sw) + "x" +
                     std::to_string(sh) + " screen");
    }
    const ColorMapObject* map = desc.ColorMap != nullptr ? desc.ColorMap : gif->SColorMap;
    if (map == nullptr || map->Colors == nullptr) return Corrupt("truncated or corrupt GIF: no colour table");

    // A black canvas of the screen size; the frame may be smaller or stick out (clipped).
    RgbImage image;
    image.width = image.full_width = sw;
    image.height = image.full_height = sh;
    image.pixels.assign(static_cast<size_t>(sw) * sh * 3, 0);
    std::vector<GifPixelType> line(desc.Width);
    // Interlaced frames store rows 0,8,16.. then 4,12.. then 2,6.. then 1,3..
    static constexpr int kStart[4] = {0, 4, 2, 1};
    static constexpr int kStep[4] = {8, 8, 4, 2};
    const int passes = desc.Interlace ? 4 : 1;
    for (int pass = 0; pass < passes; ++pass) {
      const int start = desc.Interlace ? kStart[pass] : 0;
      const int step = desc.Interlace ? kStep[pass] : 1;
      for (int row = start; row < desc.Height; row += step) {
        if (row % 16 == 0 && deadline.Passed()) return deadline.Error();
        if (DGifGetLine(gif, line.data(), desc.Width) == GIF_ERROR) return GifError(gif->Error);
        const int y = desc.Top + row;
        if (y < 0 || y >= sh) continue;
        uint8_t* out = image.pixels.data() + static_cast<size_t>(y) * sw * 3;
        for (int col = 0; col < desc.Width; ++col) {
          const int x = desc.Left + col;
          const int index = line[col];
          if (x >= sw || index == transparent || index >= map->ColorCount) continue;
          const GifColorType& c = map->Colors[index];
          out[x * 3] = c.Red;
          out[x * 3 + 1] = c.Green;
          out[x * 3 + 2] = c.Blue;
        }
      }
    }
    return image;
  }
}

}  // namespace mediadex::media::internal
