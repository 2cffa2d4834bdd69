// libFuzzer target: bytes as model.json text, with a small fixed weights blob, through the
// parser, weight decoding and plan building (constant folding off to bound the work).
// Must never crash; every bad input is an error Status.
#include <c10/core/Device.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "model/tfjs/graph_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string kWeights(64, '\x01');
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto model = mediadex::model::tfjs::GraphModel::Parse(text, kWeights, c10::kCPU, "fuzz.json",
                                                        /*fold_constants=*/false);
  (void)model;
  return 0;
}
