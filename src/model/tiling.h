// Tiled detection for photos much larger than a model's input (--tiles off|auto|RxC): where the
// tiles lie, and how their detections merge with the whole-image pass. Pure arithmetic, no
// LibTorch: tests/model/tiling_test.cpp checks it by hand; model/tiled_detector.h runs it.
//
// Why: the bundled CenterNet sees every photo squeezed into 512x512, so on a 12 MP photo a cup
// or a distant dog shrinks to a few input pixels and is lost. Overlapping tiles, each squeezed
// into the input on its own, see those objects 3x larger (SAHI: slicing-aided hyper inference);
// the whole-image pass still sees the large objects that the tiles cut apart.
#ifndef MEDIADEX_MODEL_TILING_H_
#define MEDIADEX_MODEL_TILING_H_

#include <string>
#include <vector>

#include "core/detection.h"
#include "core/status.h"

namespace mediadex::model {

struct TileSpec {
  enum class Mode { kOff, kAuto, kGrid };
  Mode mode = Mode::kOff;
  int rows = 0;  // kGrid only
  int cols = 0;
  bool off() const { return mode == Mode::kOff; }
  std::string ToString() const;  // "off", "auto", "2x3" (rows x cols): what ParseTileSpec reads
};

// "off", "auto" or "RxC" (rows x columns, 1..8 each, e.g. "3x3"). Errors name the value.
Result<TileSpec> ParseTileSpec(const std::string& text);

// The rule behind auto and the fixed grids, and the merge's thresholds.
struct TileRule {
  // Neighbouring tiles overlap by this fraction of a tile, so that an object up to that size
  // lies whole inside at least one tile (SAHI's default is 0.2).
  float overlap = 0.2f;
  // auto: tiles per axis = round(photo side / (this x the input side)), at most kAutoMostPerAxis,
  // and no tiles at all unless the photo's longer side is at least auto_min_scale x the input's:
  // a tile then covers about 2-3x the input per axis, where the network still sees the context
  // it was trained with, and a 12 MP photo (4000x3000 at 512x512) gets 3x3 tiles, 10 passes.
  float auto_tile_scale = 2.0f;
  float auto_min_scale = 3.0f;
  // A tile's box within this fraction of the tile's side from an inner tile edge (one that is
  // not the photo's edge) is cut by it: the object goes on in the next tile, or is large
  // enough for the whole-image pass. Dropped.
  float edge_margin = 0.01f;
  // Scale-aware merge: a box from a tile is kept only while the object is not large in the
  // whole-image pass (longer side under this many input pixels there: 160 of 512, under about a
  // third of the photo). Larger objects the whole-image pass sees well, and what a tile finds at
  // that size is mostly a part of one (a stretched photo's person's torso). Chosen on the
  // bench/accuracy sets (docs/accuracy.md): 48 kept too few of the mosaics' medium objects
  // (2x2: 68% of the single-photo mAP), no limit let parts of large objects in (stretched
  // photos 0.289 against 0.300).
  float small_side = 160.0f;
  // Boxes of one class overlapping by more than this IoU are one object: the best one stays.
  float merge_iou = 0.5f;
};

static constexpr int kAutoMostPerAxis = 3;  // 3x3 tiles + the whole image = 10 passes at most

// A tile in the photo's full-size pixels: [x, x + width) x [y, y + height).
struct TileRect {
  float x = 0, y = 0, width = 0, height = 0;
};

// The tiles of a photo of `width` x `height` for a model whose input is input_width x
// input_height: empty when the spec is off or (auto) the photo is not much larger than the
// input. Row-major, evenly spaced, the outer ones flush with the photo's edges.
std::vector<TileRect> LayOutTiles(const TileSpec& spec, int width, int height, int input_width, int input_height,
                                  const TileRule& rule = {});

// The most tiles a photo can get with this spec (auto: kAutoMostPerAxis squared).
int MostTiles(const TileSpec& spec);

// The decode size tiles need: each tile should keep at least the model's input in pixels, so a
// JPEG decoded at a DCT scale must be at least this large (the input times the tiles per axis,
// less their overlap). 0 when the spec is off.
int TileDecodeSide(const TileSpec& spec, int input_side, const TileRule& rule = {});

// Merges the whole-image pass with the tiles' passes, all in the photo's pixels (tile_boxes[i]
// found in tiles[i]). Drops tile boxes cut by an inner tile edge and tile boxes of objects large
// in the whole-image pass, then keeps per class the best of boxes overlapping by more than
// rule.merge_iou; at most `max_output` (<= 0: all), best first.
std::vector<Detection> MergeTiled(const std::vector<Detection>& whole, const std::vector<std::vector<Detection>>& tile_boxes,
                                  const std::vector<TileRect>& tiles, int width, int height, int input_width,
                                  int input_height, int max_output, const TileRule& rule = {});

}  // namespace mediadex::model

#endif  // MEDIADEX_MODEL_TILING_H_
