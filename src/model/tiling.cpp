#include "model/tiling.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mediadex::model {
namespace {

constexpr int kGridMostPerAxis = 8;

// n tiles over a side of `side` pixels, overlapping by `overlap` of a tile: (start, length)s.
std::vector<std::pair<float, float>> Spans(int n, float side, float overlap) {
  const float length = side / (static_cast<float>(n) - static_cast<float>(n - 1) * overlap);
  const float step = length * (1 - overlap);
  std::vector<std::pair<float, float>> spans;
  for (int i = 0; i < n; ++i) spans.emplace_back(i == n - 1 && n > 1 ? side - length : i * step, length);
  return spans;
}

int AutoPerAxis(int side, int input_side, const TileRule& rule) {
  const int n = static_cast<int>(std::lround(static_cast<float>(side) / (rule.auto_tile_scale * input_side)));
  return std::clamp(n, 1, kAutoMostPerAxis);
}

// Whether `b` (photo pixels, found in `tile`) touches one of the tile's edges that lies inside the photo.
bool CutByInnerEdge(const Box& b, const TileRect& tile, int width, int height, float margin) {
  const float mx = margin * tile.width, my = margin * tile.height;
  if (tile.x > 0.5f && b.x1 - tile.x < mx) return true;
  if (tile.y > 0.5f && b.y1 - tile.y < my) return true;
  if (tile.x + tile.width < width - 0.5f && tile.x + tile.width - b.x2 < mx) return true;
  if (tile.y + tile.height < height - 0.5f && tile.y + tile.height - b.y2 < my) return true;
  return false;
}

}  // namespace

std::string TileSpec::ToString() const {
  if (mode == Mode::kOff) return "off";
  if (mode == Mode::kAuto) return "auto";
  return std::to_string(rows) + "x" + std::to_string(cols);
}

Result<TileSpec> ParseTileSpec(const std::string& text) {
  TileSpec spec;
  if (text == "off" || text.empty()) return spec;
  if (text == "auto") {
    spec.mode = TileSpec::Mode::kAuto;
    return spec;
  }
  int rows = 0, cols = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%dx%d%c", &rows, &cols, &tail) == 2 && rows >= 1 && cols >= 1 &&
      rows <= kGridMostPerAxis && cols <= kGridMostPerAxis && rows * cols >= 2) {
    spec.mode = TileSpec::Mode::kGrid;
    spec.rows = rows;
    spec.cols = cols;
    return spec;
  }
  return InvalidArgument("tiles must be off, auto or RxC (rows x columns, 1..8 each, 2 tiles or more), not '" + text +
                         "'");
}

std::vector<TileRect> LayOutTiles(const TileSpec& spec, int width, int height, int input_width, int input_height,
                                  const TileRule& rule) {
  int rows = spec.rows, cols = spec.cols;
  if (spec.mode == TileSpec::Mode::kOff || width <= 0 || height <= 0 || input_width <= 0 || input_height <= 0) {
    return {};
  }
  if (spec.mode == TileSpec::Mode::kAuto) {
    const float scale = std::max(static_cast<float>(width) / input_width, static_cast<float>(height) / input_height);
    if (scale < rule.auto_min_scale) return {};
    cols = AutoPerAxis(width, input_width, rule);
    rows = AutoPerAxis(height, input_height, rule);
    if (rows * cols < 2) return {};
  }
  std::vector<TileRect> tiles;
  for (const auto& [y, h] : Spans(rows, static_cast<float>(height), rule.overlap)) {
    for (const auto& [x, w] : Spans(cols, static_cast<float>(width), rule.overlap)) tiles.push_back({x, y, w, h});
  }
  return tiles;
}

int MostTiles(const TileSpec& spec) {
  if (spec.mode == TileSpec::Mode::kOff) return 0;
  if (spec.mode == TileSpec::Mode::kAuto) return kAutoMostPerAxis * kAutoMostPerAxis;
  return spec.rows * spec.cols;
}

int TileDecodeSide(const TileSpec& spec, int input_side, const TileRule& rule) {
  if (spec.mode == TileSpec::Mode::kOff) return 0;
  const int n = spec.mode == TileSpec::Mode::kAuto ? kAutoMostPerAxis : std::max(spec.rows, spec.cols);
  return static_cast<int>(std::ceil(input_side * (static_cast<float>(n) - static_cast<float>(n - 1) * rule.overlap)));
}

std::vector<Detection> MergeTiled(const std::vector<Detection>& whole,
                                  const std::vector<std::vector<Detection>>& tile_boxes,
                                  const std::vector<TileRect>& tiles, int width, int height, int input_width,
                                  int input_height, int max_output, const TileRule& rule) {
  std::vector<Detection> candidates = whole;
  const float sx = static_cast<float>(input_width) / static_cast<float>(std::max(1, width));
  const float sy = static_cast<float>(input_height) / static_cast<float>(std::max(1, height));
  for (size_t t = 0; t < tile_boxes.size() && t < tiles.size(); ++t) {
    for (const Detection& d : tile_boxes[t]) {
      const float side_in_whole = std::max((d.box.x2 - d.box.x1) * sx, (d.box.y2 - d.box.y1) * sy);
      if (side_in_whole >= rule.small_side) continue;
      if (CutByInnerEdge(d.box, tiles[t], width, height, rule.edge_margin)) continue;
      candidates.push_back(d);
    }
  }
  // Best first; on equal scores the whole image's box (listed first) wins.
  std::vector<size_t> order(candidates.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return candidates[a].score > candidates[b].score; });
  std::vector<Detection> kept;
  for (size_t i : order) {
    const Detection& d = candidates[i];
    bool duplicate = false;
    for (const Detection& k : kept) {
      if (k.class_id == d.class_id && IoU(k.box, d.box) > rule.merge_iou) {
        duplicate = true;
        break;
      }
    }
    if (duplicate) continue;
    kept.push_back(d);
    if (max_output > 0 && static_cast<int>(kept.size()) >= max_output) break;
  }
  return kept;
}

}  // namespace mediadex::model
