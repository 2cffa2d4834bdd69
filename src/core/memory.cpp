#include "core/memory.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

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

bool MemoryBudget::Acquire(uint64_t bytes) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (bytes > limit_) return false;
  released_.wait(lock, [&] { return cancelled_ || in_use_ + bytes <= limit_; });
  if (cancelled_) return false;
  in_use_ += bytes;
  peak_ = std::max(peak_, in_use_);
  return true;
}

bool MemoryBudget::TryAcquire(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (cancelled_ || in_use_ + bytes > limit_) return false;
  in_use_ += bytes;
  peak_ = std::max(peak_, in_use_);
  return true;
}

void MemoryBudget::Release(uint64_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_use_ -= std::min(bytes, in_use_);
  }
  released_.notify_all();
}

void MemoryBudget::Cancel() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    cancelled_ = true;
  }
  released_.notify_all();
}

uint64_t MemoryBudget::in_use() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return in_use_;
}

uint64_t MemoryBudget::peak() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_;
}

}  // namespace mediadex
