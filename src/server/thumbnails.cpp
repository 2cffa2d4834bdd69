#include "server/thumbnails.h"

#include <spdlog/spdlog.h>
#include <webp/encode.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "media/decoder.h"
#include "media/video.h"

namespace mediadex::server {
namespace {

namespace fs = std::filesystem;

const ThumbSize kSizes[] = {{"grid", 250}, {"preview", 1440}};

std::string EncodeWebp(const uint8_t* rgb, int w, int h, float quality) {
  uint8_t* out = nullptr;
  const size_t n = WebPEncodeRGB(rgb, w, h, w * 3, quality, &out);
  std::string bytes(reinterpret_cast<const char*>(out), n);
  WebPFree(out);
  return bytes;
}

}  // namespace

const ThumbSize* FindThumbSize(const std::string& name) {
  for (const auto& s : kSizes)
    if (name == s.name) return &s;
  return nullptr;
}

std::vector<uint8_t> ResizeRgb(const uint8_t* src, int sw, int sh, int dw, int dh) {
  std::vector<uint8_t> out(static_cast<size_t>(dw) * dh * 3);
  for (int y = 0; y < dh; ++y) {
    const int y0 = static_cast<int>(static_cast<int64_t>(y) * sh / dh);
    const int y1 = std::max(y0 + 1, static_cast<int>(static_cast<int64_t>(y + 1) * sh / dh));
    for (int x = 0; x < dw; ++x) {
      const int x0 = static_cast<int>(static_cast<int64_t>(x) * sw / dw);
      const int x1 = std::max(x0 + 1, static_cast<int>(static_cast<int64_t>(x + 1) * sw / dw));
      uint32_t sum[3] = {0, 0, 0};
      for (int yy = y0; yy < y1; ++yy) {
        const uint8_t* row = src + (static_cast<size_t>(yy) * sw + x0) * 3;
        for (int xx = x0; xx < x1; ++xx, row += 3) {
          sum[0] += row[0];
          sum[1] += row[1];
          sum[2] += row[2];
        }
      }
      const uint32_t n = static_cast<uint32_t>((y1 - y0) * (x1 - x0));
      uint8_t* o = &out[(static_cast<size_t>(y) * dw + x) * 3];
      for (int c = 0; c < 3; ++c) o[c] = static_cast<uint8_t>((sum[c] + n / 2) / n);
    }
  }
  return out;
}

Thumbnails::Thumbnails(ThumbnailOptions options) : options_(std::move(options)) {
  std::vector<uint8_t> grey(32 * 32 * 3, 0x88);
  placeholder_ = EncodeWebp(grey.data(), 32, 32, 50);
  std::error_code ec;
  fs::create_directories(options_.cache_dir, ec);
  for (auto it = fs::recursive_directory_iterator(options_.cache_dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    if (it->is_regular_file(ec)) cache_bytes_ += it->file_size(ec);
  }
  pool_ = std::make_unique<WorkPool>(options_.threads, 512);
}

Thumbnails::~Thumbnails() { pool_.reset(); }

uint64_t Thumbnails::cache_bytes() {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_bytes_;
}

void Thumbnails::Get(const catalog::MediaItem& item, const ThumbSize& size, std::function<void(ThumbResult)> done) {
  const std::string file = options_.cache_dir + "/" + size.name + "/" + std::to_string(item.id) + "-" +
                           (item.content_hash.empty() ? "0" : item.content_hash) + ".webp";
  std::error_code ec;
  if (fs::is_regular_file(file, ec)) {
    done({file, ""});
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& waiters = waiting_[file];
    waiters.push_back(std::move(done));
    if (waiters.size() > 1) return;  // someone is making it: wait for theirs
  }
  const bool posted = pool_->Post([this, item, &size, file] {
    ThumbResult result = Make(item, size, file);
    std::vector<std::function<void(ThumbResult)>> waiters;
    {
      std::lock_guard<std::mutex> lock(mu_);
      waiters.swap(waiting_[file]);
      waiting_.erase(file);
    }
    for (auto& w : waiters) w(result);
  });
  if (!posted) {
    std::vector<std::function<void(ThumbResult)>> waiters;
    {
      std::lock_guard<std::mutex> lock(mu_);
      waiters.swap(waiting_[file]);
      waiting_.erase(file);
    }
    for (auto& w : waiters) w({"", kThumbBusy});
  }
}

ThumbResult Thumbnails::Make(const catalog::MediaItem& item, const ThumbSize& size, const std::string& file) {
  media::DecodeOptions opts;
  // The JPEG decoder picks the smallest DCT scale still at least this large. Only the longer
  // side must reach the thumbnail's size: asking both made a 2560x1600 photo decode at 1/4
  // (640x400) instead of 1/8 (320x200), twice the work for the grid's cold first screen.
  if (item.width > 0 && item.height > 0) {
    (item.width >= item.height ? opts.target_width : opts.target_height) = size.longest_side;
  } else {
    opts.target_width = opts.target_height = size.longest_side;
  }
  opts.max_pixels = options_.max_pixels;
  opts.max_decode_seconds = options_.max_decode_seconds;
  RgbImage image;
  if (item.kind == catalog::MediaKind::kVideo) {
    auto video = media::VideoFrames::Open(item.path, opts);
    if (!video.ok()) return {"", video.status().message()};
    double t = 0;
    auto more = (*video)->Next(1.0, &image, &t);
    if (!more.ok()) return {"", more.status().message()};
    if (!*more) return {"", "the video has no frame"};
  } else {
    auto decoded = media::DecodeFile(item.path, opts);
    if (!decoded.ok()) return {"", decoded.status().message()};
    image = std::move(decoded).value();
  }
  if (image.width <= 0 || image.height <= 0 || image.pixels.empty()) return {"", "no pixels decoded"};
  const int longest = std::max(image.width, image.height);
  int w = image.width, h = image.height;
  std::vector<uint8_t> resized;
  const uint8_t* pixels = image.pixels.data();
  if (longest > size.longest_side) {  // never upscaled
    w = std::max(1, static_cast<int>(static_cast<int64_t>(image.width) * size.longest_side / longest));
    h = std::max(1, static_cast<int>(static_cast<int64_t>(image.height) * size.longest_side / longest));
    resized = ResizeRgb(image.pixels.data(), image.width, image.height, w, h);
    pixels = resized.data();
  }
  const std::string bytes = EncodeWebp(pixels, w, h, 80);
  if (bytes.empty()) return {"", "WebP encoding failed"};
  std::error_code ec;
  fs::create_directories(fs::path(file).parent_path(), ec);
  const std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) return {"", "cannot write the thumbnail cache: " + tmp};
  }
  fs::rename(tmp, file, ec);  // atomic: a reader sees the whole file or none
  if (ec) return {"", "cannot write the thumbnail cache: " + ec.message()};
  Account(bytes.size());
  return {file, ""};
}

// Over the cap: delete the oldest files until under 90% of it.
void Thumbnails::Account(uint64_t added) {
  uint64_t total;
  {
    std::lock_guard<std::mutex> lock(mu_);
    total = cache_bytes_ += added;
  }
  if (total <= options_.max_cache_bytes) return;
  struct Entry {
    fs::file_time_type time;
    std::string path;
    uint64_t size;
  };
  std::vector<Entry> entries;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(options_.cache_dir, ec); !ec && it != fs::end(it); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    entries.push_back({it->last_write_time(ec), it->path().string(), it->file_size(ec)});
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.time < b.time; });
  uint64_t now = 0;
  for (const auto& e : entries) now += e.size;
  const uint64_t target = options_.max_cache_bytes / 10 * 9;
  for (const auto& e : entries) {
    if (now <= target) break;
    if (fs::remove(e.path, ec)) now -= e.size;
  }
  std::lock_guard<std::mutex> lock(mu_);
  cache_bytes_ = now;
}

}  // namespace mediadex::server
