#include "model/tfjs/op_registry.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace mediadex::model::tfjs {

void OpTable::Add(const std::string& name, OpInfo info) { entries_.emplace_back(name, info); }

void OpTable::Sort() {
  std::sort(entries_.begin(), entries_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
}

const OpInfo* OpTable::Find(const std::string& name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const auto& e, const std::string& n) { return e.first < n; });
  return it != entries_.end() && it->first == name ? &it->second : nullptr;
}

const OpInfo* FindOp(const std::string& op) {
  static const OpTable* table = [] {
    auto* t = new OpTable();
    RegisterElementwiseOps(*t);
    RegisterConvOps(*t);
    RegisterPoolOps(*t);
    RegisterReduceOps(*t);
    RegisterShapeOps(*t);
    RegisterImageOps(*t);
    RegisterNmsOps(*t);
    RegisterBatchNormOps(*t);
    RegisterFusedOps(*t);
    t->Sort();
    return t;
  }();
  return table->Find(op);
}

void OpFail(const std::string& message) { Fail(StatusCode::kInvalidArgument, message); }

void NeedInputs(const OpCtx& ctx, size_t n) {
  if (ctx.in.size() < n) {
    OpFail("expects " + std::to_string(n) + " inputs, has " + std::to_string(ctx.in.size()));
  }
}

namespace {
thread_local const HostConstants* t_host_constants = nullptr;

at::Tensor OnHost(const at::Tensor& t) {
  if (t.device().is_cpu()) return t;
  if (t_host_constants != nullptr) {
    auto it = t_host_constants->find(t.unsafeGetTensorImpl());
    if (it != t_host_constants->end()) return it->second;
  }
  return t.to(at::kCPU);
}
}  // namespace

HostConstantsScope::HostConstantsScope(const HostConstants* constants) : previous_(t_host_constants) {
  t_host_constants = constants;
}
HostConstantsScope::~HostConstantsScope() { t_host_constants = previous_; }

std::vector<int64_t> IntValues(const at::Tensor& t) {
  if (t.numel() > (1 << 20)) OpFail("index tensor too large");
  at::Tensor c = OnHost(t);
  if (c.is_floating_point()) {
    if (!c.isfinite().all().item<bool>()) OpFail("non-finite value where an integer is expected");
  }
  c = c.to(at::kLong).contiguous();
  const int64_t* p = c.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + c.numel());
}

int64_t IntScalar(const at::Tensor& t) {
  if (t.numel() != 1) OpFail("expected a scalar, got shape " + ShapeString(t.sizes()));
  return IntValues(t)[0];
}

double DoubleScalar(const at::Tensor& t) {
  if (t.numel() != 1) OpFail("expected a scalar, got shape " + ShapeString(t.sizes()));
  return OnHost(t).to(at::kDouble).item<double>();
}

int64_t NormalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank) {
    OpFail("axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  }
  return axis < 0 ? axis + rank : axis;
}

bool Donatable(const at::Tensor& t) {
  return t.defined() && t.use_count() == 1 && t.has_storage() && t.storage().use_count() == 1 &&
         t.is_contiguous() && t.storage_offset() == 0;
}

std::string ShapeString(at::IntArrayRef shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? "," : "") << shape[i];
  s << "]";
  return s.str();
}

at::ScalarType TfType(const NodeDef& node, const char* key, const char* fallback) {
  return DtypeFromTf(node.AttrType(key, fallback));
}

}  // namespace mediadex::model::tfjs
