#include "model/tfjs/model_reader.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <queue>
#include <utility>

namespace mediadex::model::tfjs {
namespace {

using Json = nlohmann::ordered_json;  // ordered: the signature's output order is meaningful

[[noreturn]] void Bad(const std::string& what) { Fail(StatusCode::kCorrupt, what); }

std::string Base64Decode(const std::string& in, const std::string& where) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    int v = value(c);
    if (v < 0) Bad(where + ": invalid base64 string");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

// TF JSON writes int64 as strings ("3"), sometimes as numbers.
int64_t ToInt(const Json& j, const std::string& where) {
  if (j.is_number_integer()) return j.get<int64_t>();
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 9e18 || d != std::floor(d)) Bad(where + ": not an integer");
    return static_cast<int64_t>(d);
  }
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s.empty() || s.size() > 20) Bad(where + ": not an integer: '" + s.substr(0, 30) + "'");
    size_t pos = 0;
    bool neg = s[0] == '-';
    if (neg) pos = 1;
    if (pos >= s.size()) Bad(where + ": not an integer: '" + s + "'");
    uint64_t v = 0;
    for (; pos < s.size(); ++pos) {
      if (s[pos] < '0' || s[pos] > '9') Bad(where + ": not an integer: '" + s + "'");
      uint64_t next = v * 10 + static_cast<uint64_t>(s[pos] - '0');
      if (next / 10 != v || next > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        Bad(where + ": integer out of range: '" + s + "'");
      v = next;
    }
    return neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  }
  Bad(where + ": expected an integer");
}

double ToDouble(const Json& j, const std::string& where) {
  if (j.is_number()) return j.get<double>();
  if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
    try {
      size_t used = 0;
      double d = std::stod(s, &used);
      if (used == s.size()) return d;
    } catch (const std::exception&) {
    }
  }
  Bad(where + ": expected a number");
}

const std::string& ToString(const Json& j, const std::string& where) {
  if (!j.is_string()) Bad(where + ": expected a string");
  return j.get_ref<const std::string&>();
}

std::vector<int64_t> ParseShape(const Json& j, const std::string& where, bool* unknown_rank) {
  std::vector<int64_t> dims;
  if (unknown_rank) *unknown_rank = false;
  if (!j.is_object()) Bad(where + ": shape must be an object");
  if (auto it = j.find("unknownRank"); it != j.end() && it->is_boolean() && it->get<bool>()) {
    if (unknown_rank) *unknown_rank = true;
    return dims;
  }
  auto it = j.find("dim");
  if (it == j.end()) return dims;
  if (!it->is_array()) Bad(where + ": shape.dim must be an array");
  for (const Json& d : *it) {
    if (!d.is_object()) Bad(where + ": shape.dim entries must be objects");
    auto s = d.find("size");
    dims.push_back(s == d.end() ? 0 : ToInt(*s, where + ": shape size"));
  }
  return dims;
}

AttrValue ParseAttr(const Json& j, const std::string& where) {
  AttrValue a;
  if (!j.is_object()) Bad(where + ": attribute must be an object");
  if (j.contains("i")) {
    a.kind = AttrValue::kInt;
    a.i = ToInt(j["i"], where);
  } else if (j.contains("f")) {
    a.kind = AttrValue::kFloat;
    a.f = ToDouble(j["f"], where);
  } else if (j.contains("b")) {
    a.kind = AttrValue::kBool;
    if (!j["b"].is_boolean()) Bad(where + ": expected a boolean");
    a.b = j["b"].get<bool>();
  } else if (j.contains("s")) {
    a.kind = AttrValue::kString;
    a.s = Base64Decode(ToString(j["s"], where), where);
  } else if (j.contains("type")) {
    a.kind = AttrValue::kType;
    a.type = ToString(j["type"], where);
  } else if (j.contains("shape")) {
    a.kind = AttrValue::kShape;
    a.shape = ParseShape(j["shape"], where, &a.unknown_rank);
  } else if (j.contains("list")) {
    a.kind = AttrValue::kList;
    const Json& l = j["list"];
    if (!l.is_object()) Bad(where + ": list must be an object");
    auto arr = [&](const char* key) -> const Json* {
      auto it = l.find(key);
      if (it == l.end()) return nullptr;
      if (!it->is_array()) Bad(where + ": list." + key + " must be an array");
      return &*it;
    };
    if (const Json* v = arr("i")) for (const Json& e : *v) a.list_i.push_back(ToInt(e, where));
    if (const Json* v = arr("f")) for (const Json& e : *v) a.list_f.push_back(ToDouble(e, where));
    if (const Json* v = arr("s")) for (const Json& e : *v) a.list_s.push_back(Base64Decode(ToString(e, where), where));
    if (const Json* v = arr("type")) for (const Json& e : *v) a.list_type.push_back(ToString(e, where));
  } else {
    a.kind = AttrValue::kOther;  // tensor, func, placeholder: not needed by the executor
  }
  return a;
}

TensorSpec ParseSigEntry(const std::string& key, const Json& j, const std::string& where) {
  TensorSpec spec;
  if (!j.is_object()) Bad(where + ": signature entry '" + key + "' must be an object");
  auto n = j.find("name");
  spec.name = n == j.end() ? key : ToString(*n, where);
  std::string dtype = "DT_FLOAT";
  if (auto d = j.find("dtype"); d != j.end()) dtype = ToString(*d, where);
  spec.dtype = dtype == "DT_FLOAT" ? "float32" : dtype == "DT_INT32" ? "int32" : dtype == "DT_BOOL" ? "bool" : dtype;
  if (auto s = j.find("tensorShape"); s != j.end()) {
    spec.shape = ParseShape(*s, where + ": signature '" + key + "'", nullptr);
  }
  return spec;
}

std::string DtypeName(const std::string& tf) {
  return tf == "DT_FLOAT" ? "float32" : tf == "DT_INT32" ? "int32" : tf == "DT_BOOL" ? "bool" : tf;
}

int64_t CheckedMul(int64_t a, int64_t b, const std::string& where) {
  if (a < 0 || b < 0) Bad(where + ": negative dimension");
  if (b != 0 && a > std::numeric_limits<int64_t>::max() / 4 / b) Bad(where + ": tensor too large");
  return a * b;
}

}  // namespace

void Fail(StatusCode code, const std::string& message) { throw ModelError(code, message); }

const AttrValue* NodeDef::FindAttr(const char* key) const {
  auto it = attrs.find(key);
  return it == attrs.end() ? nullptr : &it->second;
}
int64_t NodeDef::AttrInt(const char* key, int64_t fallback) const {
  const AttrValue* a = FindAttr(key);
  if (!a) return fallback;
  if (a->kind != AttrValue::kInt) Bad(std::string("attribute '") + key + "' is not an int");
  return a->i;
}
double NodeDef::AttrFloat(const char* key, double fallback) const {
  const AttrValue* a = FindAttr(key);
  if (!a) return fallback;
  if (a->kind == AttrValue::kInt) return static_cast<double>(a->i);
  if (a->kind != AttrValue::kFloat) Bad(std::string("attribute '") + key + "' is not a float");
  return a->f;
}
bool NodeDef::AttrBool(const char* key, bool fallback) const {
  const AttrValue* a = FindAttr(key);
  if (!a) return fallback;
  if (a->kind != AttrValue::kBool) Bad(std::string("attribute '") + key + "' is not a bool");
  return a->b;
}
std::string NodeDef::AttrString(const char* key, const std::string& fallback) const {
  const AttrValue* a = FindAttr(key);
  if (!a) return fallback;
  if (a->kind != AttrValue::kString) Bad(std::string("attribute '") + key + "' is not a string");
  return a->s;
}
std::string NodeDef::AttrType(const char* key, const std::string& fallback) const {
  const AttrValue* a = FindAttr(key);
  if (!a) return fallback;
  if (a->kind != AttrValue::kType) Bad(std::string("attribute '") + key + "' is not a type");
  return a->type;
}
std::vector<int64_t> NodeDef::AttrInts(const char* key) const {
  const AttrValue* a = FindAttr(key);
  if (!a) return {};
  if (a->kind != AttrValue::kList) Bad(std::string("attribute '") + key + "' is not a list");
  return a->list_i;
}
std::vector<std::string> NodeDef::AttrStrings(const char* key) const {
  const AttrValue* a = FindAttr(key);
  if (!a) return {};
  if (a->kind != AttrValue::kList) Bad(std::string("attribute '") + key + "' is not a list");
  return a->list_s;
}

int64_t WeightSpec::ByteSize() const {
  int64_t n = 1;
  for (int64_t d : shape) n = CheckedMul(n, d, "weight '" + name + "'");
  int64_t elem = 4;
  if (quant_dtype == "uint8") elem = 1;
  else if (quant_dtype == "uint16" || quant_dtype == "float16") elem = 2;
  else if (dtype == "bool") elem = 1;
  return CheckedMul(n, elem, "weight '" + name + "'");
}

int64_t WeightGroup::ByteSize() const {
  int64_t total = 0;
  for (const WeightSpec& w : weights) {
    total += w.ByteSize();
    if (total < 0 || total > (int64_t{1} << 50)) Bad("weights manifest: group too large");
  }
  return total;
}

std::pair<std::string, int> SplitTensorName(const std::string& name) {
  size_t colon = name.rfind(':');
  if (colon == std::string::npos || colon + 1 >= name.size() || name.size() - colon > 6) return {name, 0};
  int index = 0;
  for (size_t i = colon + 1; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return {name, 0};
    index = index * 10 + (name[i] - '0');
  }
  return {name.substr(0, colon), index};
}

at::ScalarType DtypeFromTf(const std::string& t) {
  if (t == "DT_FLOAT" || t == "float32") return at::kFloat;
  if (t == "DT_INT32" || t == "int32") return at::kInt;
  if (t == "DT_INT64" || t == "int64") return at::kLong;
  if (t == "DT_BOOL" || t == "bool") return at::kBool;
  Fail(StatusCode::kUnsupported, "unsupported dtype '" + t + "'");
}

ParsedModel ParseModelJson(std::string_view text) {
  Json root = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) Bad("malformed JSON");
  if (!root.is_object()) Bad("model.json must hold a JSON object");
  if (auto f = root.find("format"); f != root.end() && f->is_string() && f->get<std::string>() != "graph-model") {
    Fail(StatusCode::kUnsupported, "format '" + f->get<std::string>() + "' is not a TF.js graph-model");
  }
  auto topo = root.find("modelTopology");
  if (topo == root.end() || !topo->is_object()) Bad("missing modelTopology");
  auto node_list = topo->find("node");
  if (node_list == topo->end() || !node_list->is_array()) Bad("modelTopology.node must be an array");

  ParsedModel model;
  std::vector<std::vector<std::string>> raw_inputs;
  model.nodes.reserve(node_list->size());
  for (const Json& jn : *node_list) {
    if (!jn.is_object()) Bad("modelTopology.node entries must be objects");
    NodeDef node;
    auto name = jn.find("name");
    if (name == jn.end()) Bad("a node has no name");
    node.name = ToString(*name, "node name");
    const std::string where = "node '" + node.name + "'";
    auto op = jn.find("op");
    if (op == jn.end()) Bad(where + ": no op");
    node.op = ToString(*op, where + ": op");
    std::vector<std::string> ins;
    if (auto in = jn.find("input"); in != jn.end()) {
      if (!in->is_array()) Bad(where + " (op '" + node.op + "'): input must be an array");
      for (const Json& e : *in) ins.push_back(ToString(e, where + ": input"));
    }
    if (auto at = jn.find("attr"); at != jn.end()) {
      if (!at->is_object()) Bad(where + " (op '" + node.op + "'): attr must be an object");
      for (auto it = at->begin(); it != at->end(); ++it) {
        node.attrs[it.key()] = ParseAttr(it.value(), where + " (op '" + node.op + "'): attr '" + it.key() + "'");
      }
    }
    if (!model.node_index.emplace(node.name, static_cast<int>(model.nodes.size())).second) {
      Bad(where + ": duplicate node name");
    }
    model.nodes.push_back(std::move(node));
    raw_inputs.push_back(std::move(ins));
  }
  // Resolve inputs to node indices now, so execution never looks names up.
  for (size_t n = 0; n < model.nodes.size(); ++n) {
    NodeDef& node = model.nodes[n];
    for (const std::string& in : raw_inputs[n]) {
      if (!in.empty() && in[0] == '^') continue;  // control dependency: no data flows
      auto [src, index] = SplitTensorName(in);
      auto it = model.node_index.find(src);
      if (it == model.node_index.end()) {
        Bad("node '" + node.name + "' (op '" + node.op + "'): input '" + in + "' names no node");
      }
      node.input_nodes.push_back(it->second);
      node.input_outputs.push_back(index);
    }
  }

  // Signature, or Placeholders / sinks when absent.
  auto resolve = [&](TensorSpec spec, const char* kind) {
    IoRef ref;
    auto [src, index] = SplitTensorName(spec.name);
    auto it = model.node_index.find(src);
    if (it == model.node_index.end()) Bad(std::string("signature ") + kind + " '" + spec.name + "' names no node");
    ref.node = it->second;
    ref.output = index;
    ref.spec = std::move(spec);
    return ref;
  };
  const Json* sig = nullptr;
  if (auto s = root.find("signature"); s != root.end() && s->is_object()) sig = &*s;
  if (sig == nullptr) {
    if (auto s = topo->find("signature"); s != topo->end() && s->is_object()) sig = &*s;
  }
  if (sig) {
    for (const char* kind : {"inputs", "outputs"}) {
      auto part = sig->find(kind);
      if (part == sig->end()) continue;
      if (!part->is_object()) Bad(std::string("signature.") + kind + " must be an object");
      for (auto it = part->begin(); it != part->end(); ++it) {
        IoRef ref = resolve(ParseSigEntry(it.key(), it.value(), "signature"), kind);
        (kind[0] == 'i' ? model.inputs : model.outputs).push_back(std::move(ref));
      }
    }
  }
  if (model.inputs.empty()) {
    for (size_t n = 0; n < model.nodes.size(); ++n) {
      const NodeDef& node = model.nodes[n];
      if (node.op != "Placeholder") continue;
      IoRef ref;
      ref.node = static_cast<int>(n);
      ref.spec.name = node.name;
      ref.spec.dtype = DtypeName(node.AttrType("dtype", "DT_FLOAT"));
      if (const AttrValue* s = node.FindAttr("shape"); s && s->kind == AttrValue::kShape) ref.spec.shape = s->shape;
      model.inputs.push_back(std::move(ref));
    }
  }
  if (model.outputs.empty()) {
    std::vector<char> consumed(model.nodes.size(), 0);
    for (const NodeDef& node : model.nodes) {
      for (int src : node.input_nodes) consumed[src] = 1;
    }
    for (size_t n = 0; n < model.nodes.size(); ++n) {
      const NodeDef& node = model.nodes[n];
      if (consumed[n] || node.op == "Const" || node.op == "NoOp" || node.op == "Placeholder") continue;
      IoRef ref;
      ref.node = static_cast<int>(n);
      ref.spec.name = node.name;
      ref.spec.dtype = DtypeName(node.AttrType("T", node.AttrType("dtype", "DT_FLOAT")));
      model.outputs.push_back(std::move(ref));
    }
  }
  // Placeholder shapes fill in signature inputs without one.
  for (IoRef& in : model.inputs) {
    if (!in.spec.shape.empty()) continue;
    const NodeDef& node = model.nodes[in.node];
    if (const AttrValue* s = node.FindAttr("shape"); s && s->kind == AttrValue::kShape) in.spec.shape = s->shape;
  }

  // Weights manifest.
  if (auto wm = root.find("weightsManifest"); wm != root.end()) {
    if (!wm->is_array()) Bad("weightsManifest must be an array");
    for (const Json& jg : *wm) {
      if (!jg.is_object()) Bad("weightsManifest entries must be objects");
      WeightGroup group;
      if (auto p = jg.find("paths"); p != jg.end()) {
        if (!p->is_array()) Bad("weightsManifest paths must be an array");
        for (const Json& e : *p) group.paths.push_back(ToString(e, "weightsManifest path"));
      }
      auto ws = jg.find("weights");
      if (ws != jg.end()) {
        if (!ws->is_array()) Bad("weightsManifest weights must be an array");
        for (const Json& jw : *ws) {
          if (!jw.is_object()) Bad("weightsManifest weight entries must be objects");
          WeightSpec w;
          auto wn = jw.find("name");
          if (wn == jw.end()) Bad("a weight has no name");
          w.name = ToString(*wn, "weight name");
          const std::string where = "weight '" + w.name + "'";
          auto shape = jw.find("shape");
          if (shape == jw.end() || !shape->is_array()) Bad(where + ": missing shape");
          for (const Json& d : *shape) {
            int64_t v = ToInt(d, where + ": shape");
            if (v < 0) Bad(where + ": negative dimension");
            w.shape.push_back(v);
          }
          auto dt = jw.find("dtype");
          if (dt == jw.end()) Bad(where + ": missing dtype");
          w.dtype = ToString(*dt, where + ": dtype");
          if (w.dtype != "float32" && w.dtype != "int32" && w.dtype != "bool") {
            Fail(StatusCode::kUnsupported, where + ": unsupported dtype '" + w.dtype + "'");
          }
          if (auto q = jw.find("quantization"); q != jw.end()) {
            if (!q->is_object()) Bad(where + ": quantization must be an object");
            auto qd = q->find("dtype");
            if (qd == q->end()) Bad(where + ": quantization has no dtype");
            w.quant_dtype = ToString(*qd, where + ": quantization dtype");
            if (w.quant_dtype != "uint8" && w.quant_dtype != "uint16" && w.quant_dtype != "float16") {
              Fail(StatusCode::kUnsupported, where + ": unsupported quantization dtype '" + w.quant_dtype + "'");
            }
            if (w.quant_dtype != "float16") {
              auto sc = q->find("scale");
              auto mn = q->find("min");
              if (sc == q->end() || mn == q->end()) Bad(where + ": quantization needs scale and min");
              w.scale = ToDouble(*sc, where + ": scale");
              w.min = ToDouble(*mn, where + ": min");
            }
          }
          w.ByteSize();  // validates the shape's size
          group.weights.push_back(std::move(w));
        }
      }
      group.ByteSize();
      model.groups.push_back(std::move(group));
    }
  }
  return model;
}

std::unordered_map<std::string, at::Tensor> DecodeWeights(
    const std::vector<WeightGroup>& groups, const std::vector<std::string_view>& group_data) {
  std::unordered_map<std::string, at::Tensor> out;
  for (size_t g = 0; g < groups.size(); ++g) {
    std::string_view data = g < group_data.size() ? group_data[g] : std::string_view();
    int64_t offset = 0;
    for (const WeightSpec& w : groups[g].weights) {
      const int64_t bytes = w.ByteSize();
      if (offset + bytes > static_cast<int64_t>(data.size())) {
        Bad("weight data truncated: weight '" + w.name + "' needs bytes " + std::to_string(offset) + ".." +
            std::to_string(offset + bytes) + " but the shard data of group " + std::to_string(g) + " has " +
            std::to_string(data.size()));
      }
      const char* src = data.data() + offset;
      offset += bytes;
      int64_t n = 1;
      for (int64_t d : w.shape) n *= d;
      at::Tensor t;
      if (w.quant_dtype == "uint8" || w.quant_dtype == "uint16") {
        at::Tensor raw;
        if (w.quant_dtype == "uint8") {
          raw = at::empty({n}, at::kByte);
          if (n) std::memcpy(raw.data_ptr(), src, n);
          raw = raw.to(at::kFloat);
        } else {
          // No uint16 in this LibTorch: read as int32.
          raw = at::empty({n}, at::kInt);
          int32_t* dst = raw.data_ptr<int32_t>();
          for (int64_t i = 0; i < n; ++i) {
            uint16_t v;
            std::memcpy(&v, src + 2 * i, 2);
            dst[i] = v;
          }
          raw = raw.to(at::kFloat);
        }
        // TF.js: v * scale + min, computed in float32.
        t = raw.mul_(static_cast<float>(w.scale)).add_(static_cast<float>(w.min));
        if (w.dtype == "int32") t = t.to(at::kInt);
        else if (w.dtype == "bool") t = t.ne(0);
      } else if (w.quant_dtype == "float16") {
        at::Tensor raw = at::empty({n}, at::kHalf);
        if (n) std::memcpy(raw.data_ptr(), src, 2 * n);
        t = raw.to(at::kFloat);
        if (w.dtype == "int32") t = t.to(at::kInt);
        else if (w.dtype == "bool") t = t.ne(0);
      } else {
        at::ScalarType st = w.dtype == "float32" ? at::kFloat : w.dtype == "int32" ? at::kInt : at::kBool;
        t = at::empty({n}, st);
        if (w.dtype == "bool") {
          uint8_t* dst = static_cast<uint8_t*>(t.data_ptr());
          for (int64_t i = 0; i < n; ++i) dst[i] = src[i] != 0;
        } else if (n) {
          std::memcpy(t.data_ptr(), src, 4 * n);
        }
      }
      out[w.name] = t.reshape(w.shape);
    }
  }
  return out;
}

}  // namespace mediadex::model::tfjs
