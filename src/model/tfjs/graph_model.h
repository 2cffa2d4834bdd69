// A TF.js graph model (model.json + weight shards) executed natively with LibTorch ops.
//
//   auto model = tfjs::GraphModel::Load("models/centernet.json", torch::kCPU);
//   auto out = (*model)->Execute({{"tower_0/images", input_nhwc}}, {"tower_0/detections"});
//
// Semantics are TensorFlow's (NHWC, TF broadcasting, TF resize rules); internally ops may run
// NCHW/channels_last when that is faster, but every value visible between nodes is NHWC as in TF.
// Batch: the input may have batch B > 1 even where the graph baked batch 1 into constants
// (Reshape shapes etc.); such nodes run per image and the results are stacked again.
// Thread safety: immutable after Load(); Execute() may run concurrently from several threads.
#ifndef MEDIADEX_MODEL_TFJS_GRAPH_MODEL_H_
#define MEDIADEX_MODEL_TFJS_GRAPH_MODEL_H_

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace mediadex::model::tfjs {

struct TensorSpec {
  std::string name;
  std::string dtype;           // "float32", "int32", ...
  std::vector<int64_t> shape;  // -1 for unknown dimensions
};

class GraphModel {
 public:
  // Reads model.json and its weight shards (paths relative to model.json), dequantizes
  // (uint8/uint16 with scale/min, float16), builds the execution plan and moves the weights to
  // `device`. Errors name the file and, for graph problems, the node and op.
  static Result<std::unique_ptr<GraphModel>> Load(const std::string& model_json_path,
                                                  c10::Device device);
  // The same from memory: `weights` is every weight group's shards concatenated in manifest
  // order; `name` stands for the file in error messages. `fold_constants` = false skips
  // evaluating constant subgraphs at load (the fuzzer uses it to bound the work per input).
  static Result<std::unique_ptr<GraphModel>> Parse(const std::string& json_text, const std::string& weights,
                                                   c10::Device device, const std::string& name,
                                                   bool fold_constants = true);
  ~GraphModel();

  const std::vector<TensorSpec>& inputs() const;
  const std::vector<TensorSpec>& outputs() const;

  // Runs the graph. `feeds` maps input names to tensors on this model's device (NHWC for images).
  // Returns the requested outputs in order. Errors name the failing node and op.
  Result<std::vector<torch::Tensor>> Execute(const std::map<std::string, torch::Tensor>& feeds,
                                             const std::vector<std::string>& output_names) const;

 private:
  struct Impl;
  explicit GraphModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mediadex::model::tfjs

#endif  // MEDIADEX_MODEL_TFJS_GRAPH_MODEL_H_
