// EXIF orientation and capture time: reading the tags (libexif) and turning the pixels upright.
#include <libexif/exif-data.h>

#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "media/decode_internal.h"

namespace mediadex::media::internal {
namespace {

constexpr uint8_t kExifHeader[6] = {'E', 'x', 'i', 'f', 0, 0};

struct ExifDataDeleter {
  void operator()(ExifData* d) const { exif_data_unref(d); }
};

}  // namespace

int64_t ParseExifDateTime(const char* text, size_t size) {
  // "YYYY:MM:DD HH:MM:SS"; cameras with no clock write "0000:00:00 00:00:00" or blanks.
  if (text == nullptr || size < 19) return 0;
  int v[6];
  const int starts[6] = {0, 5, 8, 11, 14, 17};
  const int lengths[6] = {4, 2, 2, 2, 2, 2};
  for (int i = 0; i < 6; ++i) {
    v[i] = 0;
    for (int j = 0; j < lengths[i]; ++j) {
      const char c = text[starts[i] + j];
      if (c < '0' || c > '9') return 0;
      v[i] = v[i] * 10 + (c - '0');
    }
  }
  if (text[4] != ':' || text[7] != ':' || text[10] != ' ' || text[13] != ':' || text[16] != ':') return 0;
  const int year = v[0], month = v[1], day = v[2];
  static constexpr int kDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1800 || month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) return 0;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) return 0;
  if (v[3] > 23 || v[4] > 59 || v[5] > 60) return 0;
  // Days from 1970-01-01 (Howard Hinnant's days_from_civil), no time zone: EXIF has none.
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  const int64_t seconds = days * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
  return seconds;
}

ExifFacts ReadExif(const uint8_t* data, size_t size) {
  ExifFacts facts;
  if (data == nullptr || size < 8) return facts;
  // libexif wants the "Exif\0\0" header; PNG eXIf and WebP EXIF chunks may come without it.
  std::vector<uint8_t> with_header;
  if (size < sizeof(kExifHeader) || std::memcmp(data, kExifHeader, sizeof(kExifHeader)) != 0) {
    with_header.reserve(size + sizeof(kExifHeader));
    with_header.insert(with_header.end(), kExifHeader, kExifHeader + sizeof(kExifHeader));
    with_header.insert(with_header.end(), data, data + size);
    data = with_header.data();
    size = with_header.size();
  }
  if (size > 0xFFFFFFFFu) return facts;
  std::unique_ptr<ExifData, ExifDataDeleter> exif(exif_data_new());
  if (!exif) return facts;
  // Only read what is there: no "fixing" of missing mandatory tags, no maker notes.
  exif_data_unset_option(exif.get(), EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
  exif_data_unset_option(exif.get(), EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
  exif_data_set_option(exif.get(), EXIF_DATA_OPTION_DONT_CHANGE_MAKER_NOTE);
  exif_data_load_data(exif.get(), data, static_cast<unsigned int>(size));
  ExifEntry* entry = exif_content_get_entry(exif->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
  if (entry != nullptr && entry->format == EXIF_FORMAT_SHORT && entry->components >= 1 &&
      entry->data != nullptr && entry->size >= 2) {
    const int value = exif_get_short(entry->data, exif_data_get_byte_order(exif.get()));
    if (value >= 1 && value <= 8) facts.orientation = value;
  }
  entry = exif_content_get_entry(exif->ifd[EXIF_IFD_EXIF], EXIF_TAG_DATE_TIME_ORIGINAL);
  if (entry != nullptr && entry->format == EXIF_FORMAT_ASCII && entry->data != nullptr) {
    facts.capture_time = ParseExifDateTime(reinterpret_cast<const char*>(entry->data), entry->size);
  }
  return facts;
}

int ExifOrientation(const uint8_t* data, size_t size) { return ReadExif(data, size).orientation; }

void ApplyOrientation(int orientation, RgbImage* image) {
  if (orientation < 2 || orientation > 8) return;
  const int w = image->width;   // stored (decoded) size
  const int h = image->height;
  const bool swap = OrientationSwapsAxes(orientation);
  const int out_w = swap ? h : w;
  const int out_h = swap ? w : h;
  const uint8_t* src = image->pixels.data();
  std::vector<uint8_t> out(image->pixels.size());
  // For each upright pixel (x, y), the stored pixel (sx, sy) that belongs there.
  for (int y = 0; y < out_h; ++y) {
    uint8_t* dst = out.data() + static_cast<size_t>(y) * out_w * 3;
    for (int x = 0; x < out_w; ++x) {
      int sx = x, sy = y;
      switch (orientation) {
        case 2: sx = w - 1 - x; sy = y; break;          // mirrored horizontally
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;  // rotated 180
        case 4: sx = x; sy = h - 1 - y; break;          // mirrored vertically
        case 5: sx = y; sy = x; break;                  // transposed
        case 6: sx = y; sy = h - 1 - x; break;          // needs 90 clockwise
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;  // transversed
        case 8: sx = w - 1 - y; sy = x; break;          // needs 90 counter-clockwise
      }
      const uint8_t* p = src + (static_cast<size_t>(sy) * w + sx) * 3;
      dst[0] = p[0];
      dst[1] = p[1];
      dst[2] = p[2];
      dst += 3;
    }
  }
  image->pixels = std::move(out);
  image->width = out_w;
  image->height = out_h;
  if (swap) std::swap(image->full_width, image->full_height);
}

}  // namespace mediadex::media::internal
