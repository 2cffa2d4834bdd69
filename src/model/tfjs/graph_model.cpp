// GraphModel: load (parse, decode weights, fold constants, prepare ops, move to the device)
// and execute (a precomputed plan: topological order of the needed nodes, input slots
// resolved to indices, intermediates released after their last consumer).
//
// Batch: the graph usually bakes batch 1 into constants. Each runtime value is static (from
// constants only), batched (leading dim = the B images) or per-sample (B tensors of batch 1).
// A node runs once on the whole batch when its op is batch-safe for its inputs, otherwise once
// per image on slices, with exact batch-1 semantics; per-sample outputs are concatenated at
// the end.
#include "model/tfjs/graph_model.h"

#include <ATen/ATen.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <c10/util/Exception.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_set>

#include "engine/torch_device.h"
#include "model/tfjs/fusion.h"
#include "model/tfjs/model_reader.h"
#include "model/tfjs/op_registry.h"

namespace mediadex::model::tfjs {
namespace {

// MEDIADEX_PROFILE_OPS=1: time every op (the device synchronised after each, so the times are
// real and the run is slower) and log the op types that took longest after each forward pass.
// For finding where a forward pass spends its time, e.g. its first run at a new batch shape.
class OpProfile {
 public:
  static bool Enabled() {
    static const bool enabled = [] {
      const char* env = std::getenv("MEDIADEX_PROFILE_OPS");
      return env != nullptr && std::string(env) == "1";
    }();
    return enabled;
  }

  void Start() { start_ = std::chrono::steady_clock::now(); }

  void Stop(const NodeDef& node, const at::Tensor& output, c10::Device device) {
    if (device.type() != c10::DeviceType::CPU) c10::impl::getDeviceGuardImpl(device.type())->getStream(device).synchronize();
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    auto& [seconds, count] = by_op_[node.op];
    seconds += took;
    ++count;
    by_node_.emplace_back(took, node.op + " " + node.name + (output.defined() ? " " + ShapeString(output.sizes()) : ""));
  }

  void Log(const std::string& file, int64_t batch) const {
    std::vector<std::pair<double, std::string>> ranked;
    double total = 0;
    for (const auto& [op, entry] : by_op_) {
      ranked.emplace_back(entry.first, op + " x" + std::to_string(entry.second));
      total += entry.first;
    }
    std::sort(ranked.rbegin(), ranked.rend());
    std::string top;
    for (size_t i = 0; i < ranked.size() && i < 12; ++i) top += fmt::format(" {} {:.3f} s;", ranked[i].second, ranked[i].first);
    spdlog::info("{}: ops of a batch of {} took {:.3f} s:{}", file, batch, total, top);
    std::vector<std::pair<double, std::string>> nodes = by_node_;
    std::sort(nodes.rbegin(), nodes.rend());
    std::string slowest;
    for (size_t i = 0; i < nodes.size() && i < 20; ++i) slowest += fmt::format(" {} {:.2f} ms;", nodes[i].second, nodes[i].first * 1e3);
    spdlog::info("{}: slowest ops of that batch:{}", file, slowest);
  }

 private:
  std::chrono::steady_clock::time_point start_;
  std::map<std::string, std::pair<double, int>> by_op_;  // op -> (seconds, runs)
  std::vector<std::pair<double, std::string>> by_node_;   // (seconds, "op name shape")
};

struct InputRef {
  int slot;
  bool is_static;
  bool move;  // last use: hand the tensor over so the op may overwrite it
};

struct Step {
  int node;
  std::vector<InputRef> inputs;
  std::vector<int> release;  // slots to drop after this step
};

struct Plan {
  std::vector<Step> steps;
  std::vector<int> output_slots;
  std::vector<int> feed_nodes;  // Placeholders the plan needs
};

struct Value {
  enum Kind : uint8_t { kEmpty, kStatic, kBatched, kPerSample };
  Kind kind = kEmpty;
  at::Tensor t;
  std::vector<at::Tensor> per;
};

std::string NodePrefix(const std::string& file, const NodeDef& node) {
  return file + ": node '" + node.name + "' (op '" + node.op + "'): ";
}

// A node's failure: the model's own errors keep their code, allocation failures become
// OutOfMemory (the pipeline halves its batch), the rest is an invalid input for this graph.
Status StatusFromError(const std::string& prefix, const std::exception& e) {
  if (auto* m = dynamic_cast<const ModelError*>(&e)) return Status(m->code(), prefix + m->what());
  std::string msg = e.what();
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) msg = c->what_without_backtrace();
  msg = msg.substr(0, msg.find('\n'));  // one line: LibTorch messages may carry more
  if (engine::IsOutOfMemory(e)) return OutOfMemory(prefix + msg);
  return InvalidArgument(prefix + msg);
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  std::ostringstream s;
  s << f.rdbuf();
  *out = s.str();
  return !f.bad();
}

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

// How many outputs an op has, so that "node:k" may be requested even when the graph
// itself never reads output k.
int OutputCount(const NodeDef& node) {
  const std::string& op = node.op;
  auto clamp = [](int64_t v) { return static_cast<int>(std::min<int64_t>(std::max<int64_t>(v, 1), 1024)); };
  try {
    if (op == "TopKV2" || op == "NonMaxSuppressionV4") return 2;
    if (op == "NonMaxSuppressionV5") return 3;
    if (op == "FusedBatchNorm" || op == "FusedBatchNormV2") return 5;
    if (op == "FusedBatchNormV3") return 6;
    if (op == "Unpack") return clamp(node.AttrInt("num", 1));
    if (op == "Split" || op == "SplitV") return clamp(node.AttrInt("num_split", 1));
    if (op == "IdentityN" || op == "ShapeN") return clamp(static_cast<int64_t>(node.input_nodes.size()));
  } catch (const ModelError&) {
  }
  return 1;
}

}  // namespace

struct GraphModel::Impl {
  std::string file;
  c10::Device device = c10::kCPU;
  ParsedModel g;
  std::vector<const OpInfo*> ops;                // per node, null for unknown
  std::vector<std::unique_ptr<OpState>> states;  // per node
  std::vector<Status> node_error;                // per node: load-time problem, reported on use
  std::vector<int> slot_base, num_outputs;       // per node
  int num_slots = 0;
  std::vector<char> is_static;       // per node
  std::vector<at::Tensor> statics;   // per slot, defined for static values
  HostConstants host_constants;      // host copies of small static values on a GPU
  std::vector<TensorSpec> inputs, outputs;
  std::shared_ptr<const Plan> default_plan;
  std::vector<std::string> default_names;
  mutable std::mutex mu;
  mutable std::map<std::vector<std::string>, std::shared_ptr<const Plan>> plans;

  void Build(const std::vector<std::string_view>& group_data, bool fold);
  std::shared_ptr<const Plan> MakePlan(const std::vector<std::pair<int, int>>& outs) const;  // throws Status
  Result<std::shared_ptr<const Plan>> GetPlan(const std::vector<std::string>& names) const;
  Result<std::vector<at::Tensor>> Run(const Plan& plan, const std::map<std::string, at::Tensor>& feeds) const;
  std::vector<at::Tensor> RunNode(const NodeDef& node, int index, std::vector<at::Tensor> in, int64_t batch) const;
};

namespace {
struct PlanError {
  Status status;
};
}  // namespace

std::vector<at::Tensor> GraphModel::Impl::RunNode(const NodeDef& node, int index, std::vector<at::Tensor> in,
                                                  int64_t batch) const {
  OpCtx ctx{node, states[index].get(), std::move(in), batch};
  std::vector<at::Tensor> out = ops[index]->fn(ctx);
  if (static_cast<int>(out.size()) < num_outputs[index]) {
    OpFail("produced " + std::to_string(out.size()) + " outputs, the graph uses " + std::to_string(num_outputs[index]));
  }
  return out;
}

void GraphModel::Impl::Build(const std::vector<std::string_view>& group_data, bool fold) {
  const size_t n = g.nodes.size();
  std::unordered_map<std::string, at::Tensor> weights;
  try {
    weights = DecodeWeights(g.groups, group_data);
  } catch (const ModelError& e) {
    throw PlanError{Status(e.code(), file + ": " + e.what())};
  }
  const FusionCounts fused = FuseHardSwish(&g, weights);
  if (fused.hard_swish > 0) {
    spdlog::debug("{}: {} hard-swish activations fused, {} of them into their convolution", file, fused.hard_swish,
                  fused.into_conv);
  }
  // Slots: one per node output the graph (or signature) refers to, at least the op's count.
  num_outputs.assign(n, 1);
  for (size_t i = 0; i < n; ++i) num_outputs[i] = OutputCount(g.nodes[i]);
  for (const NodeDef& node : g.nodes) {
    for (size_t i = 0; i < node.input_nodes.size(); ++i) {
      if (node.input_outputs[i] >= 1024) {
        throw PlanError{Corrupt(NodePrefix(file, node) + "input refers to output " + std::to_string(node.input_outputs[i]))};
      }
      num_outputs[node.input_nodes[i]] = std::max(num_outputs[node.input_nodes[i]], node.input_outputs[i] + 1);
    }
  }
  for (const auto* list : {&g.inputs, &g.outputs}) {
    for (const IoRef& r : *list) {
      if (r.output >= 1024) throw PlanError{Corrupt(file + ": signature refers to output " + std::to_string(r.output))};
      num_outputs[r.node] = std::max(num_outputs[r.node], r.output + 1);
    }
  }
  slot_base.resize(n);
  for (size_t i = 0; i < n; ++i) {
    slot_base[i] = num_slots;
    num_slots += num_outputs[i];
  }
  statics.assign(num_slots, at::Tensor());
  ops.assign(n, nullptr);
  states.resize(n);
  node_error.assign(n, Status::Ok());
  is_static.assign(n, 0);

  // Global topological order (Kahn); nodes on cycles are left out and fail when planned.
  std::vector<int> indegree(n, 0);
  std::vector<std::vector<int>> consumers(n);
  for (size_t i = 0; i < n; ++i) {
    for (int src : g.nodes[i].input_nodes) {
      ++indegree[i];
      consumers[src].push_back(static_cast<int>(i));
    }
  }
  std::deque<int> ready;
  for (size_t i = 0; i < n; ++i) {
    if (indegree[i] == 0) ready.push_back(static_cast<int>(i));
  }
  at::NoGradGuard no_grad;
  while (!ready.empty()) {
    const int i = ready.front();
    ready.pop_front();
    for (int c : consumers[i]) {
      if (--indegree[c] == 0) ready.push_back(c);
    }
    const NodeDef& node = g.nodes[i];
    bool inputs_ok = true, inputs_static = true;
    std::vector<const at::Tensor*> static_in;
    for (size_t k = 0; k < node.input_nodes.size(); ++k) {
      const int src = node.input_nodes[k];
      if (!node_error[src].ok()) inputs_ok = false;
      if (is_static[src]) {
        static_in.push_back(&statics[slot_base[src] + node.input_outputs[k]]);
      } else {
        static_in.push_back(nullptr);
        inputs_static = false;
      }
    }
    if (!inputs_ok) {
      node_error[i] = InvalidArgument(NodePrefix(file, node) + "depends on a node that failed to load");
      continue;
    }
    if (node.op == "Const") {
      auto it = weights.find(node.name);
      if (it == weights.end()) {
        node_error[i] = Corrupt(NodePrefix(file, node) + "no weight data for this constant");
        continue;
      }
      statics[slot_base[i]] = it->second.to(device);
      is_static[i] = 1;
      continue;
    }
    if (node.op == "Placeholder") continue;
    ops[i] = FindOp(node.op);
    if (ops[i] == nullptr) {
      node_error[i] = Unsupported(NodePrefix(file, node) + "op not supported");
      continue;
    }
    try {
      if (ops[i]->prepare) states[i] = ops[i]->prepare(node, static_in);
      if (fold && inputs_static && !node.input_nodes.empty()) {
        std::vector<at::Tensor> in;
        for (const at::Tensor* t : static_in) in.push_back(*t);
        std::vector<at::Tensor> out = RunNode(node, i, std::move(in), 1);
        for (int k = 0; k < num_outputs[i]; ++k) statics[slot_base[i] + k] = out[k];
        is_static[i] = 1;
      }
    } catch (const std::exception& e) {
      node_error[i] = StatusFromError(NodePrefix(file, node), e);
    }
  }

  for (const IoRef& r : g.inputs) inputs.push_back(r.spec);
  for (const IoRef& r : g.outputs) outputs.push_back(r.spec);
  std::vector<std::pair<int, int>> outs;
  for (const IoRef& r : g.outputs) {
    outs.emplace_back(r.node, r.output);
    default_names.push_back(r.spec.name);
  }
  default_plan = MakePlan(outs);  // fails the load when a needed node is broken
  if (!device.is_cpu()) {
    constexpr int64_t kSmall = 1024;  // axes, shapes, paddings, scalars: what ops read on the host
    for (const at::Tensor& t : statics) {
      if (t.defined() && !t.device().is_cpu() && t.numel() <= kSmall) {
        host_constants.emplace(t.unsafeGetTensorImpl(), t.to(at::kCPU));
      }
    }
  }
}

std::shared_ptr<const Plan> GraphModel::Impl::MakePlan(const std::vector<std::pair<int, int>>& outs) const {
  const size_t n = g.nodes.size();
  auto plan = std::make_shared<Plan>();
  // Needed runtime nodes: walk back from the outputs, stopping at static values.
  std::vector<char> needed(n, 0);
  std::vector<int> stack;
  for (auto [node, out] : outs) {
    if (out >= num_outputs[node]) {
      throw PlanError{InvalidArgument(file + ": node '" + g.nodes[node].name + "' has no output " + std::to_string(out))};
    }
    if (!needed[node]) {
      needed[node] = 1;
      stack.push_back(node);
    }
  }
  while (!stack.empty()) {
    const int i = stack.back();
    stack.pop_back();
    if (!node_error[i].ok()) throw PlanError{node_error[i]};
    if (is_static[i]) continue;
    for (int src : g.nodes[i].input_nodes) {
      if (!needed[src]) {
        needed[src] = 1;
        stack.push_back(src);
      }
    }
  }
  // Topological order of the needed runtime nodes.
  std::vector<int> indegree(n, 0);
  std::vector<std::vector<int>> consumers(n);
  std::vector<int> order;
  size_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!needed[i] || is_static[i]) continue;
    ++total;
    for (int src : g.nodes[i].input_nodes) {
      if (is_static[src]) continue;
      ++indegree[i];
      consumers[src].push_back(static_cast<int>(i));
    }
  }
  std::deque<int> ready;
  for (size_t i = 0; i < n; ++i) {
    if (needed[i] && !is_static[i] && indegree[i] == 0) ready.push_back(static_cast<int>(i));
  }
  while (!ready.empty()) {
    const int i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (int c : consumers[i]) {
      if (--indegree[c] == 0) ready.push_back(c);
    }
  }
  if (order.size() != total) {
    for (size_t i = 0; i < n; ++i) {
      if (needed[i] && !is_static[i] && indegree[i] > 0) {
        throw PlanError{Corrupt(NodePrefix(file, g.nodes[i]) + "the graph has a cycle through this node")};
      }
    }
  }
  // Steps, and for each slot its last consumer.
  std::vector<int> last_use(num_slots, -1);
  std::vector<char> is_output(num_slots, 0);
  for (auto [node, out] : outs) {
    const int slot = slot_base[node] + out;
    is_output[slot] = 1;
    plan->output_slots.push_back(slot);
  }
  for (int i : order) {
    const NodeDef& node = g.nodes[i];
    if (node.op == "Placeholder") {
      plan->feed_nodes.push_back(i);
      continue;
    }
    Step step;
    step.node = i;
    for (size_t k = 0; k < node.input_nodes.size(); ++k) {
      const int src = node.input_nodes[k];
      const int slot = slot_base[src] + node.input_outputs[k];
      step.inputs.push_back({slot, static_cast<bool>(is_static[src]), false});
      if (!is_static[src]) last_use[slot] = static_cast<int>(plan->steps.size());
    }
    plan->steps.push_back(std::move(step));
  }
  for (size_t s = 0; s < plan->steps.size(); ++s) {
    Step& step = plan->steps[s];
    // Hand over the last occurrence of a slot whose last use this is.
    for (int k = static_cast<int>(step.inputs.size()) - 1; k >= 0; --k) {
      InputRef& in = step.inputs[k];
      if (in.is_static || is_output[in.slot] || last_use[in.slot] != static_cast<int>(s)) continue;
      bool later = false;
      for (size_t j = k + 1; j < step.inputs.size(); ++j) later |= step.inputs[j].slot == in.slot;
      if (!later) {
        in.move = true;
        step.release.push_back(in.slot);
      }
    }
    // Outputs nobody reads.
    for (int k = 0; k < num_outputs[step.node]; ++k) {
      const int slot = slot_base[step.node] + k;
      if (last_use[slot] < 0 && !is_output[slot]) step.release.push_back(slot);
    }
  }
  return plan;
}

Result<std::shared_ptr<const Plan>> GraphModel::Impl::GetPlan(const std::vector<std::string>& names) const {
  if (names == default_names) return default_plan;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = plans.find(names); it != plans.end()) return it->second;
  std::vector<std::pair<int, int>> outs;
  for (const std::string& name : names) {
    auto [node, index] = SplitTensorName(name);
    auto it = g.node_index.find(node);
    if (it == g.node_index.end()) return InvalidArgument(file + ": no node named '" + name + "'");
    outs.emplace_back(it->second, index);
  }
  try {
    auto plan = MakePlan(outs);
    plans[names] = plan;
    return plan;
  } catch (const PlanError& e) {
    return e.status;
  }
}

Result<std::vector<at::Tensor>> GraphModel::Impl::Run(const Plan& plan,
                                                      const std::map<std::string, at::Tensor>& feeds) const {
  HostConstantsScope host_reads(&host_constants);
  std::vector<Value> vals(num_slots);
  int64_t batch = -1;
  for (const auto& [name, tensor] : feeds) {
    auto it = g.node_index.find(SplitTensorName(name).first);
    if (it == g.node_index.end() || g.nodes[it->second].op != "Placeholder") {
      return InvalidArgument(file + ": '" + name + "' is not an input of this model");
    }
    const NodeDef& node = g.nodes[it->second];
    if (!tensor.defined()) return InvalidArgument(file + ": input '" + name + "' is an undefined tensor");
    // Check against the declared dtype and shape (the batch dimension may differ).
    const std::string dtype = node.AttrType("dtype", "DT_FLOAT");
    at::ScalarType want;
    try {
      want = DtypeFromTf(dtype);
    } catch (const ModelError& e) {
      return Status(e.code(), NodePrefix(file, node) + e.what());
    }
    if (tensor.scalar_type() != want) {
      return InvalidArgument(file + ": input '" + name + "' has dtype " + std::string(c10::toString(tensor.scalar_type())) +
                             ", the model expects " + dtype);
    }
    if (const AttrValue* s = node.FindAttr("shape"); s && s->kind == AttrValue::kShape && !s->unknown_rank) {
      bool ok = static_cast<int64_t>(s->shape.size()) == tensor.dim();
      for (size_t d = 1; ok && d < s->shape.size(); ++d) ok = s->shape[d] < 0 || s->shape[d] == tensor.size(d);
      if (!ok) {
        return InvalidArgument(file + ": input '" + name + "' has shape " + ShapeString(tensor.sizes()) +
                               ", the model expects " + ShapeString(s->shape));
      }
    }
    // Only an input declared with a leading batch dimension (1 or -1) carries the batch;
    // others are shared by every image.
    bool batch_input = false;
    if (const AttrValue* s = node.FindAttr("shape"); s && s->kind == AttrValue::kShape && !s->unknown_rank) {
      batch_input = !s->shape.empty() && (s->shape[0] == 1 || s->shape[0] == -1) && tensor.dim() >= 1;
    }
    if (batch_input) {
      if (batch >= 0 && batch != tensor.size(0)) {
        return InvalidArgument(file + ": inputs disagree on the batch size");
      }
      batch = tensor.size(0);
    }
    Value& v = vals[slot_base[it->second]];
    v.kind = batch_input ? Value::kBatched : Value::kStatic;
    v.t = tensor.device() == device ? tensor : tensor.to(device);
  }
  if (batch == 0) return InvalidArgument(file + ": the batch is empty");
  for (int node : plan.feed_nodes) {
    if (vals[slot_base[node]].kind == Value::kEmpty) {
      return InvalidArgument(file + ": missing input '" + g.nodes[node].name + "'");
    }
  }
  if (batch < 1) batch = 1;

  at::NoGradGuard no_grad;
  std::vector<at::Tensor> in;
  std::vector<char> batched;
  std::optional<OpProfile> profile;
  if (OpProfile::Enabled()) profile.emplace();
  for (const Step& step : plan.steps) {
    const NodeDef& node = g.nodes[step.node];
    const OpInfo& op = *ops[step.node];
    if (profile) profile->Start();
    try {
      bool any_per = false, any_batched = false;
      batched.assign(step.inputs.size(), 0);
      for (size_t k = 0; k < step.inputs.size(); ++k) {
        const InputRef& r = step.inputs[k];
        if (r.is_static) continue;
        const Value& v = vals[r.slot];
        if (v.kind == Value::kEmpty) OpFail("input " + std::to_string(k) + " has no value");
        any_per |= v.kind == Value::kPerSample;
        if (v.kind == Value::kBatched) {
          batched[k] = 1;
          any_batched = true;
        }
      }
      auto input = [&](const InputRef& r) -> at::Tensor {
        if (r.is_static) return statics[r.slot];
        Value& v = vals[r.slot];
        return r.move ? std::move(v.t) : v.t;
      };
      std::vector<at::Tensor> out;
      Value::Kind kind;
      bool whole = !any_per;
      if (whole && batch > 1 && any_batched) {
        switch (op.rule) {
          case BatchRule::kNever: whole = false; break;
          case BatchRule::kFirstInput: {
            whole = batched[0];
            for (size_t k = 1; k < batched.size(); ++k) whole = whole && !batched[k];
            break;
          }
          case BatchRule::kElementwise: {
            int64_t rank = 0;
            for (size_t k = 0; k < step.inputs.size(); ++k) {
              const InputRef& r = step.inputs[k];
              rank = std::max<int64_t>(rank, r.is_static ? statics[r.slot].dim() : vals[r.slot].t.dim());
            }
            for (size_t k = 0; whole && k < step.inputs.size(); ++k) {
              const InputRef& r = step.inputs[k];
              const at::Tensor& t = r.is_static ? statics[r.slot] : vals[r.slot].t;
              if (batched[k]) whole = t.dim() == rank;
              else whole = t.dim() < rank || t.size(0) == 1;
            }
            break;
          }
          case BatchRule::kCustom: {
            in.clear();
            for (const InputRef& r : step.inputs) in.push_back(r.is_static ? statics[r.slot] : vals[r.slot].t);
            whole = op.batch_ok(node, states[step.node].get(), in, batched);
            in.clear();
            break;
          }
        }
      }
      if (whole) {
        in.clear();
        for (const InputRef& r : step.inputs) in.push_back(input(r));
        out = RunNode(node, step.node, std::move(in), any_batched ? batch : 1);
        in = std::vector<at::Tensor>();
        kind = any_batched ? Value::kBatched : (any_per ? Value::kPerSample : Value::kStatic);
        for (int k = 0; k < num_outputs[step.node]; ++k) {
          Value& v = vals[slot_base[step.node] + k];
          v.kind = kind;
          v.t = std::move(out[k]);
        }
      } else {
        // Once per image on batch-1 slices.
        std::vector<std::vector<at::Tensor>> per(num_outputs[step.node]);
        for (int64_t b = 0; b < batch; ++b) {
          std::vector<at::Tensor> args;
          for (const InputRef& r : step.inputs) {
            if (r.is_static) {
              args.push_back(statics[r.slot]);
              continue;
            }
            Value& v = vals[r.slot];
            if (v.kind == Value::kBatched) args.push_back(v.t.narrow(0, b, 1));
            else if (v.kind == Value::kPerSample) args.push_back(r.move ? std::move(v.per[b]) : v.per[b]);
            else args.push_back(v.t);
          }
          std::vector<at::Tensor> o = RunNode(node, step.node, std::move(args), 1);
          for (int k = 0; k < num_outputs[step.node]; ++k) per[k].push_back(std::move(o[k]));
        }
        for (int k = 0; k < num_outputs[step.node]; ++k) {
          Value& v = vals[slot_base[step.node] + k];
          v.kind = Value::kPerSample;
          v.per = std::move(per[k]);
        }
      }
      for (int slot : step.release) vals[slot] = Value();
      if (profile) {
        const Value& first_output = vals[slot_base[step.node]];
        profile->Stop(node, first_output.kind == Value::kBatched ? first_output.t : at::Tensor(), device);
      }
    } catch (const std::exception& e) {
      return StatusFromError(NodePrefix(file, node), e);
    }
  }
  if (profile) profile->Log(file, batch);
  std::vector<at::Tensor> result;
  for (int slot : plan.output_slots) {
    if (!statics[slot].defined() && vals[slot].kind == Value::kEmpty) {
      return InvalidArgument(file + ": an output was not computed");
    }
    if (statics[slot].defined()) {
      result.push_back(statics[slot]);
      continue;
    }
    Value& v = vals[slot];
    if (v.kind != Value::kPerSample) {
      result.push_back(v.t);
      continue;
    }
    try {
      bool cat = true;
      for (const at::Tensor& t : v.per) cat = cat && t.dim() >= 1 && t.size(0) == 1 && t.sizes() == v.per[0].sizes();
      result.push_back(cat ? at::cat(v.per, 0) : at::stack(v.per, 0));
    } catch (const std::exception& e) {
      return StatusFromError(file + ": collecting per-image outputs: ", e);
    }
  }
  return result;
}

GraphModel::GraphModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GraphModel::~GraphModel() = default;

const std::vector<TensorSpec>& GraphModel::inputs() const { return impl_->inputs; }
const std::vector<TensorSpec>& GraphModel::outputs() const { return impl_->outputs; }


Result<std::unique_ptr<GraphModel>> GraphModel::Parse(const std::string& json_text, const std::string& weights,
                                                      c10::Device device, const std::string& name,
                                                      bool fold_constants) {
  auto impl = std::make_unique<Impl>();
  impl->file = name;
  impl->device = device;
  try {
    impl->g = ParseModelJson(json_text);
    // Split the blob by each group's size; the last group takes the rest.
    std::vector<std::string_view> parts;
    std::string_view rest(weights);
    for (size_t i = 0; i < impl->g.groups.size(); ++i) {
      const int64_t size = impl->g.groups[i].ByteSize();
      const size_t take = i + 1 == impl->g.groups.size() ? rest.size() : std::min<size_t>(rest.size(), size);
      parts.push_back(rest.substr(0, take));
      rest.remove_prefix(take);
    }
    impl->Build(parts, fold_constants);
  } catch (const PlanError& e) {
    return e.status;
  } catch (const std::exception& e) {
    return StatusFromError(name + ": ", e);
  }
  return std::unique_ptr<GraphModel>(new GraphModel(std::move(impl)));
}

Result<std::unique_ptr<GraphModel>> GraphModel::Load(const std::string& path, c10::Device device) {
  std::string text;
  if (!ReadFile(path, &text)) return NotFound(path + ": cannot read the model file");
  auto impl = std::make_unique<Impl>();
  impl->file = path;
  impl->device = device;
  try {
    impl->g = ParseModelJson(text);
    const std::string dir = DirName(path);
    std::vector<std::string> data(impl->g.groups.size());
    for (size_t i = 0; i < impl->g.groups.size(); ++i) {
      const WeightGroup& group = impl->g.groups[i];
      std::string names;
      for (const std::string& shard : group.paths) {
        std::string bytes;
        if (shard.empty() || shard[0] == '/' || shard.find("..") != std::string::npos) {
          return Corrupt(path + ": weight shard path '" + shard + "' is not a plain relative path");
        }
        if (!ReadFile(dir + shard, &bytes)) return NotFound(path + ": weight shard '" + shard + "' is missing");
        data[i] += bytes;
        names += (names.empty() ? "'" : ", '") + shard + "'";
      }
      const int64_t need = group.ByteSize();
      if (static_cast<int64_t>(data[i].size()) < need) {
        return Corrupt(path + ": weight shard " + names + " holds " + std::to_string(data[i].size()) +
                       " bytes, the manifest needs " + std::to_string(need) + " (truncated)");
      }
    }
    std::vector<std::string_view> views(data.begin(), data.end());
    impl->Build(views, true);
  } catch (const PlanError& e) {
    return e.status;
  } catch (const std::exception& e) {
    return StatusFromError(path + ": ", e);
  }
  return std::unique_ptr<GraphModel>(new GraphModel(std::move(impl)));
}

Result<std::vector<torch::Tensor>> GraphModel::Execute(const std::map<std::string, torch::Tensor>& feeds,
                                                       const std::vector<std::string>& output_names) const {
  auto plan = impl_->GetPlan(output_names);
  if (!plan.ok()) return plan.status();
  try {
    return impl_->Run(*plan.value(), feeds);
  } catch (const std::exception& e) {
    return StatusFromError(impl_->file + ": ", e);
  }
}

}  // namespace mediadex::model::tfjs
