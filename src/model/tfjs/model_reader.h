// Reading a TF.js graph model: model.json (topology, signature, weights manifest) and the
// weight shards. Internal to the tfjs module; throws ModelError, GraphModel turns it into Status.
#ifndef MEDIADEX_MODEL_TFJS_MODEL_READER_H_
#define MEDIADEX_MODEL_TFJS_MODEL_READER_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "model/tfjs/graph_model.h"

namespace mediadex::model::tfjs {

// An expected failure inside the module (bad file, bad graph, bad input); carries its code.
class ModelError : public std::runtime_error {
 public:
  ModelError(StatusCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  StatusCode code() const { return code_; }

 private:
  StatusCode code_;
};

[[noreturn]] void Fail(StatusCode code, const std::string& message);

// One TF AttrValue as TF.js writes it in JSON.
struct AttrValue {
  enum Kind { kNone, kInt, kFloat, kBool, kString, kType, kShape, kList, kOther };
  Kind kind = kNone;
  int64_t i = 0;
  double f = 0;
  bool b = false;
  std::string s;     // decoded from base64
  std::string type;  // "DT_FLOAT"
  std::vector<int64_t> shape;
  bool unknown_rank = false;
  std::vector<int64_t> list_i;
  std::vector<double> list_f;
  std::vector<std::string> list_s;
  std::vector<std::string> list_type;
};

struct NodeDef {
  std::string name;
  std::string op;
  // Data inputs (control inputs "^x" are dropped): producing node index and output index.
  std::vector<int> input_nodes;
  std::vector<int> input_outputs;
  std::map<std::string, AttrValue> attrs;

  const AttrValue* FindAttr(const char* key) const;
  int64_t AttrInt(const char* key, int64_t fallback) const;
  double AttrFloat(const char* key, double fallback) const;
  bool AttrBool(const char* key, bool fallback) const;
  std::string AttrString(const char* key, const std::string& fallback) const;
  std::string AttrType(const char* key, const std::string& fallback) const;
  std::vector<int64_t> AttrInts(const char* key) const;
  std::vector<std::string> AttrStrings(const char* key) const;
};

struct WeightSpec {
  std::string name;
  std::vector<int64_t> shape;
  std::string dtype;        // float32, int32, bool
  std::string quant_dtype;  // empty, uint8, uint16, float16
  double scale = 1.0;
  double min = 0.0;
  int64_t ByteSize() const;  // bytes this weight takes in the shard data
};

struct WeightGroup {
  std::vector<std::string> paths;
  std::vector<WeightSpec> weights;
  int64_t ByteSize() const;
};

struct IoRef {
  TensorSpec spec;
  int node = -1;
  int output = 0;
};

struct ParsedModel {
  std::vector<NodeDef> nodes;
  std::unordered_map<std::string, int> node_index;
  std::vector<IoRef> inputs;
  std::vector<IoRef> outputs;
  std::vector<WeightGroup> groups;
};

// Parses model.json text. Errors (ModelError) say what is wrong and name the node if any.
ParsedModel ParseModelJson(std::string_view text);

// Decodes every weight of every group; `group_data[g]` holds group g's shards concatenated.
std::unordered_map<std::string, at::Tensor> DecodeWeights(
    const std::vector<WeightGroup>& groups, const std::vector<std::string_view>& group_data);

// "x:1" -> ("x", 1); "x" -> ("x", 0).
std::pair<std::string, int> SplitTensorName(const std::string& name);

at::ScalarType DtypeFromTf(const std::string& tf_type);  // throws Unsupported

}  // namespace mediadex::model::tfjs

#endif  // MEDIADEX_MODEL_TFJS_MODEL_READER_H_
