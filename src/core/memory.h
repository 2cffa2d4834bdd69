// Memory accounting: the --max-memory promise is kept by making every stage that holds image
// bytes acquire them from one MemoryBudget first.
#ifndef MEDIADEX_CORE_MEMORY_H_
#define MEDIADEX_CORE_MEMORY_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace mediadex {

// Resident set size of this process now / at its peak (Linux /proc; 0 where unknown).
uint64_t CurrentRssBytes();
uint64_t PeakRssBytes();

// A counting budget of bytes shared by threads.
// Invariant: in_use() <= limit() at all times.
class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit) : limit_(limit) {}

  // Blocks until `bytes` fit. Returns false at once when they can never fit (bytes > limit)
  // and when Cancel() was called.
  bool Acquire(uint64_t bytes);
  // Non-blocking Acquire.
  bool TryAcquire(uint64_t bytes);
  void Release(uint64_t bytes);
  // Wakes every waiter; later Acquire calls fail.
  void Cancel();

  uint64_t limit() const { return limit_; }
  uint64_t in_use() const;
  uint64_t peak() const;

 private:
  const uint64_t limit_;
  mutable std::mutex mutex_;
  std::condition_variable released_;
  uint64_t in_use_ = 0;     // GUARDED_BY(mutex_)
  uint64_t peak_ = 0;       // GUARDED_BY(mutex_)
  bool cancelled_ = false;  // GUARDED_BY(mutex_)
};

}  // namespace mediadex

#endif  // MEDIADEX_CORE_MEMORY_H_
