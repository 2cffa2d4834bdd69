// A Detector that adds tiles (model/tiling.h) to another: each photo's whole-image pass plus
// its tiles' passes, all through the wrapped detector's Detect in one call with the other
// photos of the batch, merged into one list per photo.
//
//   auto tiled = model::WithTiles(std::move(detector), *model::ParseTileSpec("auto"));
//
// Decoded once: Prepare (on a decode thread) cuts the tiles from the decoded pixels, prepares
// each and the whole image with the wrapped detector, then drops the pixels. A photo that gets
// no tiles (small, or the spec is off) is passed through untouched: its answers are the wrapped
// detector's, bit for bit. Torch-free, so it costs no LibTorch compile.
#ifndef MEDIADEX_MODEL_TILED_DETECTOR_H_
#define MEDIADEX_MODEL_TILED_DETECTOR_H_

#include <memory>

#include "model/detector.h"
#include "model/tiling.h"

namespace mediadex::model {

// `inner` itself when the spec is off; otherwise a detector with inner's info (its decode
// size raised to TileDecodeSide) that tiles. The merged list of a tiled photo keeps up to
// DetectOptions::max_detections per pass (a 12 MP street scene holds more than 10 objects).
std::unique_ptr<Detector> WithTiles(std::unique_ptr<Detector> inner, const TileSpec& spec,
                                    const TileRule& rule = {});

}  // namespace mediadex::model

#endif  // MEDIADEX_MODEL_TILED_DETECTOR_H_
