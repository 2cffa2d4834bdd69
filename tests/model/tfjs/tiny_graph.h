// Builds small TF.js graph models in memory (or on disk) for op tests.
#ifndef MEDIADEX_TESTS_MODEL_TFJS_TINY_GRAPH_H_
#define MEDIADEX_TESTS_MODEL_TFJS_TINY_GRAPH_H_

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "model/tfjs/graph_model.h"

namespace mediadex::model::tfjs::testing {

inline std::string Base64(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += "=";
  }
  return out;
}

inline nlohmann::json S(const std::string& s) { return {{"s", Base64(s)}}; }
inline nlohmann::json I(int64_t v) { return {{"i", std::to_string(v)}}; }
inline nlohmann::json F(double v) { return {{"f", v}}; }
inline nlohmann::json B(bool v) { return {{"b", v}}; }
inline nlohmann::json Ints(const std::vector<int64_t>& v) {
  nlohmann::json l = nlohmann::json::array();
  for (int64_t x : v) l.push_back(std::to_string(x));
  return {{"list", {{"i", l}}}};
}
inline nlohmann::json Strs(const std::vector<std::string>& v) {
  nlohmann::json l = nlohmann::json::array();
  for (const auto& x : v) l.push_back(Base64(x));
  return {{"list", {{"s", l}}}};
}

class TinyGraph {
 public:
  // A constant from a float32/int32/bool tensor.
  void Const(const std::string& name, const at::Tensor& value) {
    at::Tensor t = value.contiguous();
    std::string dtype = t.scalar_type() == at::kFloat ? "float32" : t.scalar_type() == at::kInt ? "int32" : "bool";
    nodes_.push_back({{"name", name}, {"op", "Const"}, {"attr", {{"dtype", {{"type", "DT_FLOAT"}}}}}});
    nlohmann::json shape = nlohmann::json::array();
    for (int64_t d : t.sizes()) shape.push_back(d);
    weights_.push_back({{"name", name}, {"shape", shape}, {"dtype", dtype}});
    blob_.append(static_cast<const char*>(t.data_ptr()), t.nbytes());
  }
  // `shape` (optional) declares the input's shape; a leading 1 or -1 marks it as the batch.
  void Placeholder(const std::string& name, const std::string& dtype = "DT_FLOAT",
                   const std::vector<int64_t>& shape = {}) {
    nlohmann::json attr = {{"dtype", {{"type", dtype}}}};
    if (!shape.empty()) {
      nlohmann::json dims = nlohmann::json::array();
      for (int64_t d : shape) dims.push_back({{"size", std::to_string(d)}});
      attr["shape"] = {{"shape", {{"dim", dims}}}};
    }
    nodes_.push_back({{"name", name}, {"op", "Placeholder"}, {"attr", attr}});
  }
  void Node(const std::string& name, const std::string& op, const std::vector<std::string>& inputs,
            nlohmann::json attrs = nlohmann::json::object()) {
    nodes_.push_back({{"name", name}, {"op", op}, {"input", inputs}, {"attr", attrs}});
  }
  std::string Json() const {
    nlohmann::json m = {{"format", "graph-model"},
                        {"modelTopology", {{"node", nodes_}}},
                        {"weightsManifest", {{{"paths", {"w.bin"}}, {"weights", weights_}}}}};
    return m.dump();
  }
  const std::string& Blob() const { return blob_; }
  Result<std::unique_ptr<GraphModel>> Build() const { return GraphModel::Parse(Json(), blob_, c10::kCPU, "tiny.json"); }

 private:
  nlohmann::json nodes_ = nlohmann::json::array();
  nlohmann::json weights_ = nlohmann::json::array();
  std::string blob_;
};

}  // namespace mediadex::model::tfjs::testing

#endif  // MEDIADEX_TESTS_MODEL_TFJS_TINY_GRAPH_H_
