#include "core/memory.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/config.h"

namespace mediadex {
namespace {

uint64_t ReadStatusKb(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  uint64_t kb = 0;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof(line), f)) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      std::sscanf(line + n + 1, "%lu", &kb);
      break;
    }
  }
  std::fclose(f);
  return kb * 1024;
}

}  // namespace

uint64_t CurrentRssBytes() { return ReadStatusKb("VmRSS"); }
uint64_t PeakRssBytes() { return ReadStatusKb("VmHWM"); }

// ---- MemoryLease ---------------------------------------------------------------------------

MemoryLease& MemoryLease::operator=(MemoryLease&& other) noexcept {
  if (this != &other) {
    Release();
    budget_ = other.budget_;
    bytes_ = other.bytes_;
    for_run_ = other.for_run_;
    other.budget_ = nullptr;
    other.bytes_ = 0;
  }
  return *this;
}

void MemoryLease::ShrinkTo(uint64_t bytes) {
  if (budget_ == nullptr || bytes >= bytes_) return;
  budget_->Give(bytes_ - bytes, for_run_);
  bytes_ = bytes;
}

void MemoryLease::Absorb(MemoryLease&& other) {
  if (other.budget_ == nullptr) return;
  if (budget_ == nullptr) {
    *this = std::move(other);
    return;
  }
  // A lease of another budget, or of the run's share, cannot merge: a programmer error.
  if (other.budget_ != budget_ || other.for_run_ != for_run_) std::abort();
  bytes_ += other.bytes_;
  other.budget_ = nullptr;
  other.bytes_ = 0;
}

MemoryLease MemoryLease::Split(uint64_t bytes) {
  bytes = std::min(bytes, bytes_);
  bytes_ -= bytes;
  return MemoryLease(bytes > 0 ? budget_ : nullptr, bytes, for_run_);
}

// ---- MemoryBudget --------------------------------------------------------------------------

Status MemoryBudget::OverBudgetLocked(uint64_t bytes, uint64_t holds) const {
  const uint64_t most = limit_ - std::min(limit_, for_run_ + holds);
  return OverBudget("needs " + FormatBytes(bytes) + ", at most " + FormatBytes(most) +
                    " can be free under --max-memory (" + FormatBytes(limit_) + " for images and inference, " +
                    FormatBytes(for_run_) + " held by the detectors" +
                    (holds > 0 ? ", " + FormatBytes(holds) + " by this file" : std::string()) + ")");
}

Result<MemoryLease> MemoryBudget::Acquire(uint64_t bytes, uint64_t caller_holds) {
  MutexLock lock(mutex_);
  if (cancelled_) return Cancelled("memory budget cancelled");
  if (bytes + for_run_ + caller_holds > limit_) return OverBudgetLocked(bytes, caller_holds);
  if (in_use_ + bytes <= limit_ && waiters_.empty()) return GrantLocked(bytes, false);
  // First come, first served: a large request is not overtaken forever by small ones.
  auto self = waiters_.insert(waiters_.end(), Waiter{bytes, caller_holds});
  waiters_hold_ += caller_holds;
  if (RefuseIfStuckLocked()) changed_.notify_all();
  while (!cancelled_ && !self->refused && !(self == waiters_.begin() && in_use_ + bytes <= limit_)) {
    changed_.wait(mutex_);
  }
  const bool refused = self->refused;
  waiters_hold_ -= caller_holds;
  waiters_.erase(self);
  Result<MemoryLease> result = cancelled_ ? Result<MemoryLease>(Cancelled("memory budget cancelled"))
                               : refused  ? Result<MemoryLease>(OverBudgetLocked(bytes, caller_holds))
                                          : Result<MemoryLease>(GrantLocked(bytes, false));
  // The next waiter may fit now, or be stuck now that this one holds more.
  RefuseIfStuckLocked();
  changed_.notify_all();
  return result;
}

MemoryLease MemoryBudget::GrantLocked(uint64_t bytes, bool for_run) {
  in_use_ += bytes;
  if (for_run) for_run_ += bytes;
  peak_ = std::max(peak_, in_use_);
  return MemoryLease(this, bytes, for_run);
}

Result<MemoryLease> MemoryBudget::TryAcquire(uint64_t bytes) {
  MutexLock lock(mutex_);
  if (cancelled_) return Cancelled("memory budget cancelled");
  if (in_use_ + bytes > limit_ || !waiters_.empty()) return OverBudgetLocked(bytes, 0);
  return GrantLocked(bytes, false);
}

Result<MemoryLease> MemoryBudget::AcquireForRun(uint64_t bytes) {
  MutexLock lock(mutex_);
  if (cancelled_) return Cancelled("memory budget cancelled");
  if (in_use_ + bytes > limit_) return OverBudgetLocked(bytes, 0);
  return GrantLocked(bytes, true);
}

bool MemoryBudget::RefuseIfStuckLocked() {
  if (waiters_.empty()) return false;
  // Bytes held by threads that are not waiting here (and work in queues) will come back;
  // those held for the run or by waiters will not.
  const uint64_t can_come_back = in_use_ - std::min(in_use_, for_run_ + waiters_hold_);
  if (can_come_back > 0 || in_use_ + waiters_.front().bytes <= limit_) return false;
  auto largest = waiters_.begin();
  for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
    if (!it->refused && it->bytes > largest->bytes) largest = it;
  }
  if (largest->refused) return false;
  largest->refused = true;
  return true;
}

void MemoryBudget::Give(uint64_t bytes, bool for_run) {
  {
    MutexLock lock(mutex_);
    in_use_ -= std::min(bytes, in_use_);
    if (for_run) for_run_ -= std::min(bytes, for_run_);
  }
  changed_.notify_all();
}

void MemoryBudget::Cancel() {
  {
    MutexLock lock(mutex_);
    cancelled_ = true;
  }
  changed_.notify_all();
}

uint64_t MemoryBudget::in_use() const {
  MutexLock lock(mutex_);
  return in_use_;
}

uint64_t MemoryBudget::peak() const {
  MutexLock lock(mutex_);
  return peak_;
}

uint64_t MemoryBudget::most_available(uint64_t caller_holds) const {
  MutexLock lock(mutex_);
  return limit_ - std::min(limit_, for_run_ + caller_holds);
}

}  // namespace mediadex
