#include "model/tiled_detector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>

namespace mediadex::model {
namespace {

// The buffer pixels of `image` under `rect` (full-size pixels) as an image of their own, whose
// full size is the rect's in the photo's pixels; the rect is moved onto the buffer's pixel grid.
ImageTile Crop(const RgbImage& image, const TileRect& rect) {
  const double bx = static_cast<double>(image.width) / image.full_width;
  const double by = static_cast<double>(image.height) / image.full_height;
  const int x0 = std::clamp(static_cast<int>(std::floor(rect.x * bx)), 0, image.width - 1);
  const int y0 = std::clamp(static_cast<int>(std::floor(rect.y * by)), 0, image.height - 1);
  const int x1 = std::clamp(static_cast<int>(std::ceil((rect.x + rect.width) * bx)), x0 + 1, image.width);
  const int y1 = std::clamp(static_cast<int>(std::ceil((rect.y + rect.height) * by)), y0 + 1, image.height);
  auto crop = std::make_shared<RgbImage>();
  crop->width = x1 - x0;
  crop->height = y1 - y0;
  crop->full_width = std::max(1, static_cast<int>(std::lround(crop->width / bx)));
  crop->full_height = std::max(1, static_cast<int>(std::lround(crop->height / by)));
  crop->pixels.resize(static_cast<size_t>(crop->width) * crop->height * 3);
  const size_t row = static_cast<size_t>(crop->width) * 3;
  for (int y = 0; y < crop->height; ++y) {
    std::memcpy(crop->pixels.data() + y * row,
                image.pixels.data() + (static_cast<size_t>(y0 + y) * image.width + x0) * 3, row);
  }
  return ImageTile{static_cast<float>(x0 / bx), static_cast<float>(y0 / by), std::move(crop)};
}

class TiledDetector final : public Detector {
 public:
  TiledDetector(std::unique_ptr<Detector> inner, TileSpec spec, TileRule rule)
      : inner_(std::move(inner)), spec_(spec), rule_(rule), info_(inner_->info()) {
    info_.decode_width = std::max(info_.decode_width, TileDecodeSide(spec_, info_.input_width, rule_));
    info_.decode_height = std::max(info_.decode_height, TileDecodeSide(spec_, info_.input_height, rule_));
  }

  ~TiledDetector() override {
    if (photos_ > 0) {
      spdlog::info("tiles {}: {} photos, {} tiled, {} network passes ({:.2f} per photo)", spec_.ToString(),
                   photos_.load(), tiled_.load(), passes_.load(),
                   static_cast<double>(passes_.load()) / static_cast<double>(photos_.load()));
    }
  }

  const ModelInfo& info() const override { return info_; }
  const engine::DeviceInfo& device() const override { return inner_->device(); }

  // Each photo may carry up to MostTiles + 1 inputs.
  Footprint footprint() const override {
    Footprint f = inner_->footprint();
    const uint64_t passes = static_cast<uint64_t>(MostTiles(spec_)) + 1;
    f.host_input_bytes *= passes;
    f.device_input_bytes *= passes;
    if (inner_->device().kind != engine::DeviceKind::kCpu) f.host_bytes_per_image *= passes;
    if (f.batch_most > 1) f.batch_most = std::max<int>(1, f.batch_most / static_cast<int>(passes));
    return f;
  }

  Status Prepare(RgbImage* image) const override {
    const std::vector<TileRect> layout = Layout(*image);
    if (layout.empty()) return inner_->Prepare(image);
    // GPU-decoded pixels come to the host first: the crops are cut there.
    if (image->device_pixels) MDX_RETURN_IF_ERROR(Detector::Prepare(image));
    if (image->pixels.empty()) return inner_->Prepare(image);
    std::vector<ImageTile> tiles;
    for (const TileRect& rect : layout) {
      tiles.push_back(Crop(*image, rect));
      MDX_RETURN_IF_ERROR(inner_->Prepare(tiles.back().image.get()));
    }
    MDX_RETURN_IF_ERROR(inner_->Prepare(image));
    image->tiles = std::move(tiles);
    return Status::Ok();
  }

  bool UploadsPreparedInputs() const override { return inner_->UploadsPreparedInputs(); }

  Status WarmUp(int batch_size) const override { return inner_->WarmUp(batch_size); }

  Status Upload(const std::vector<RgbImage*>& images) const override {
    std::vector<RgbImage*> all;
    for (RgbImage* image : images) {
      all.push_back(image);
      for (ImageTile& tile : image->tiles) all.push_back(tile.image.get());
    }
    return inner_->Upload(all);
  }

  Result<std::vector<std::vector<Detection>>> Detect(const std::vector<const RgbImage*>& batch,
                                                     const DetectOptions& options) const override {
    // One call for all the photos and all their tiles: the wrapped detector batches them.
    std::vector<const RgbImage*> inputs;
    std::vector<std::vector<ImageTile>> cut(batch.size());  // tiles of photos not prepared here
    std::vector<const std::vector<ImageTile>*> tiles_of(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      const RgbImage& image = *batch[i];
      tiles_of[i] = &image.tiles;
      if (image.tiles.empty() && !image.prepared && !image.pixels.empty()) {
        for (const TileRect& rect : Layout(image)) cut[i].push_back(Crop(image, rect));
        tiles_of[i] = &cut[i];
      }
      inputs.push_back(&image);
      for (const ImageTile& tile : *tiles_of[i]) inputs.push_back(tile.image.get());
    }
    auto found = inner_->Detect(inputs, options);
    if (!found.ok()) return found.status();
    std::vector<std::vector<Detection>> results;
    size_t next = 0;
    int tiled = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      const std::vector<ImageTile>& tiles = *tiles_of[i];
      std::vector<Detection> whole = std::move((*found)[next++]);
      if (tiles.empty()) {
        results.push_back(std::move(whole));
        continue;
      }
      ++tiled;
      std::vector<TileRect> rects;
      std::vector<std::vector<Detection>> in_tiles;
      for (const ImageTile& tile : tiles) {
        rects.push_back({tile.x, tile.y, static_cast<float>(tile.image->full_width),
                         static_cast<float>(tile.image->full_height)});
        std::vector<Detection> boxes = std::move((*found)[next++]);
        for (Detection& d : boxes) d.box = Box{d.box.x1 + tile.x, d.box.y1 + tile.y, d.box.x2 + tile.x, d.box.y2 + tile.y};
        in_tiles.push_back(std::move(boxes));
      }
      const int most = options.max_detections * static_cast<int>(tiles.size() + 1);
      results.push_back(MergeTiled(whole, in_tiles, rects, batch[i]->full_width, batch[i]->full_height,
                                   info_.input_width, info_.input_height, most, rule_));
    }
    photos_ += static_cast<int64_t>(batch.size());
    tiled_ += tiled;
    passes_ += static_cast<int64_t>(inputs.size());
    return results;
  }

 private:
  std::vector<TileRect> Layout(const RgbImage& image) const {
    return LayOutTiles(spec_, image.full_width, image.full_height, info_.input_width, info_.input_height, rule_);
  }

  std::unique_ptr<Detector> inner_;
  TileSpec spec_;
  TileRule rule_;
  ModelInfo info_;
  mutable std::atomic<int64_t> photos_{0}, tiled_{0}, passes_{0};  // for the summary line
};

}  // namespace

std::unique_ptr<Detector> WithTiles(std::unique_ptr<Detector> inner, const TileSpec& spec, const TileRule& rule) {
  if (spec.off()) return inner;
  return std::make_unique<TiledDetector>(std::move(inner), spec, rule);
}

}  // namespace mediadex::model
