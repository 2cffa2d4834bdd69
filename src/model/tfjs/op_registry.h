// The op registry: TF op name -> LibTorch implementation, its batch rule and an optional
// load-time prepare step (parsed attributes, pre-converted weights).
#ifndef MEDIADEX_MODEL_TFJS_OP_REGISTRY_H_
#define MEDIADEX_MODEL_TFJS_OP_REGISTRY_H_

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/tfjs/model_reader.h"

namespace mediadex::model::tfjs {

// Per-node state an op builds once at load (attributes parsed, filters converted).
struct OpState {
  virtual ~OpState() = default;
};

struct OpCtx {
  const NodeDef& node;
  const OpState* state;        // from OpInfo::prepare, or null
  std::vector<at::Tensor> in;  // inputs; an input whose last use this is may be reused in place
  int64_t batch;               // > 1: running once over a batch whose graph baked batch 1
};

using OpFn = std::vector<at::Tensor> (*)(OpCtx& ctx);
// `static_in[i]` is input i's value when it is known at load (derived from constants only).
using PrepareFn = std::unique_ptr<OpState> (*)(const NodeDef& node,
                                               const std::vector<const at::Tensor*>& static_in);

// How a node may run on a batch when the graph was built for batch 1.
enum class BatchRule {
  kNever,        // run once per image
  kElementwise,  // numpy broadcasting: batch-safe when the leading dims line up
  kFirstInput,   // input 0 is NHWC batched, the others are static (conv, pool, resize)
  kCustom,       // ask OpInfo::batch_ok
};
// `batched[i]` says input i has the batch as its leading dim (others are static).
using BatchPredicate = bool (*)(const NodeDef& node, const OpState* state, const std::vector<at::Tensor>& in,
                                const std::vector<char>& batched);

struct OpInfo {
  OpFn fn = nullptr;
  BatchRule rule = BatchRule::kNever;
  BatchPredicate batch_ok = nullptr;
  PrepareFn prepare = nullptr;
};

// Null when the op is not supported.
const OpInfo* FindOp(const std::string& op);

// --- helpers for op implementations --------------------------------------------------------
[[noreturn]] void OpFail(const std::string& message);  // a bad graph or bad input at run time
void NeedInputs(const OpCtx& ctx, size_t n);
// Values the ops read on the host (axes, shapes, scalars). A model on a GPU keeps host copies of
// its small constants (HostConstantsScope), so reading them costs no device round trip: that
// would stall the GPU, and breaks CUDA Graph capture.
std::vector<int64_t> IntValues(const at::Tensor& t);  // any int/float tensor, flattened
int64_t IntScalar(const at::Tensor& t);
double DoubleScalar(const at::Tensor& t);
using HostConstants = std::unordered_map<const c10::TensorImpl*, at::Tensor>;  // device tensor -> host copy
// While alive, IntValues/IntScalar/DoubleScalar on this thread read `constants` for the tensors
// it holds.
class HostConstantsScope {
 public:
  explicit HostConstantsScope(const HostConstants* constants);
  ~HostConstantsScope();

 private:
  const HostConstants* previous_;
};
int64_t NormalizeAxis(int64_t axis, int64_t rank);  // throws when out of [-rank, rank)
// True when `t` is referenced nowhere else, so an op may overwrite it.
bool Donatable(const at::Tensor& t);
std::string ShapeString(at::IntArrayRef shape);
at::ScalarType TfType(const NodeDef& node, const char* key, const char* fallback);

// Registration, one function per op family (ops/*.cpp).
class OpTable;
void RegisterElementwiseOps(OpTable& table);
void RegisterConvOps(OpTable& table);
void RegisterPoolOps(OpTable& table);
void RegisterReduceOps(OpTable& table);
void RegisterShapeOps(OpTable& table);
void RegisterImageOps(OpTable& table);
void RegisterNmsOps(OpTable& table);
void RegisterBatchNormOps(OpTable& table);
void RegisterFusedOps(OpTable& table);  // fusion.cpp

class OpTable {
 public:
  void Add(const std::string& name, OpInfo info);
  const OpInfo* Find(const std::string& name) const;

 private:
  std::vector<std::pair<std::string, OpInfo>> entries_;  // sorted at the end of registration
  friend const OpInfo* FindOp(const std::string& op);
  void Sort();
};

}  // namespace mediadex::model::tfjs

#endif  // MEDIADEX_MODEL_TFJS_OP_REGISTRY_H_
