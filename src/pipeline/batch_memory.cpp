#include "pipeline/batch_memory.h"

#include <algorithm>

#include "core/config.h"

namespace mediadex::pipeline {

bool BatchMemory::Reserve(uint64_t bytes) {
  if (limit_ == 0) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  if (bytes > CanBeFree() || in_use_ + bytes > limit_) return false;
  in_use_ += bytes;
  reserved_ += bytes;
  peak_ = std::max(peak_, in_use_);
  return true;
}

Status BatchMemory::Acquire(uint64_t bytes) {
  if (limit_ == 0) return Status::Ok();
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    // Re-checked after every change: the batch's pinned photos only grow while it is decoded.
    if (bytes > CanBeFree()) {
      return InvalidArgument("needs " + FormatBytes(bytes) + ", at most " + FormatBytes(CanBeFree()) +
                             " can be free under --max-memory");
    }
    if (in_use_ + bytes <= limit_) break;
    changed_.wait(lock);
  }
  in_use_ += bytes;
  peak_ = std::max(peak_, in_use_);
  return Status::Ok();
}

bool BatchMemory::TryAcquire(uint64_t bytes) {
  if (limit_ == 0) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  if (in_use_ + bytes > limit_) return false;
  in_use_ += bytes;
  peak_ = std::max(peak_, in_use_);
  return true;
}

void BatchMemory::Release(uint64_t bytes) {
  if (limit_ == 0 || bytes == 0) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    in_use_ -= std::min(bytes, in_use_);
  }
  changed_.notify_all();
}

void BatchMemory::Pin(uint64_t bytes) {
  if (limit_ == 0 || bytes == 0) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pinned_ += bytes;
  }
  changed_.notify_all();  // a waiter may now know it will never fit
}

void BatchMemory::NextBatch() {
  if (limit_ == 0) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pinned_ = 0;
  }
  changed_.notify_all();
}

uint64_t BatchMemory::peak() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return peak_;
}

}  // namespace mediadex::pipeline
