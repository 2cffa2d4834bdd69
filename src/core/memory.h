// Memory accounting: the --max-memory promise is kept by making every stage that holds image
// bytes take a lease on them from one MemoryBudget first. A lease is move-only and gives its
// bytes back when it is destroyed, so the bytes travel with the work that holds them and no
// stage releases by hand.
//
//   MemoryBudget budget(limit);
//   MemoryLease run_share = budget.AcquireForRun(detector_bytes).value();  // held all run
//   auto file = budget.Acquire(size);                   // waits for room, or says why never
//   auto pixels = budget.Acquire(decode_bytes, /*caller_holds=*/file->bytes());
//   file->Release();                                     // or just let it go out of scope
//
// Never waiting forever: a request that can never be met (more than the limit less what is
// held for the whole run and by the caller itself) fails at once with OverBudget, and so does
// the largest waiting request once nothing that is held can come back (every other holder is
// itself waiting), so that hold-and-wait between decoders cannot deadlock a run.
#ifndef MEDIADEX_CORE_MEMORY_H_
#define MEDIADEX_CORE_MEMORY_H_

#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>

#include "core/status.h"
#include "core/thread_annotations.h"

namespace mediadex {

// Resident set size of this process now / at its peak (Linux /proc; 0 where unknown).
uint64_t CurrentRssBytes();
uint64_t PeakRssBytes();

class MemoryBudget;

// Bytes taken from a MemoryBudget; given back on destruction (or Release). Move-only.
// Not thread-safe itself: one owner at a time, as a work item has.
class MemoryLease {
 public:
  MemoryLease() = default;
  ~MemoryLease() { Release(); }
  MemoryLease(MemoryLease&& other) noexcept { *this = std::move(other); }
  MemoryLease& operator=(MemoryLease&& other) noexcept;
  MemoryLease(const MemoryLease&) = delete;
  MemoryLease& operator=(const MemoryLease&) = delete;

  uint64_t bytes() const { return bytes_; }
  MemoryBudget* budget() const { return budget_; }
  // Gives back everything beyond `bytes` (no-op when it holds less).
  void ShrinkTo(uint64_t bytes);
  // Takes over `other`'s bytes (same budget, or this lease empty).
  void Absorb(MemoryLease&& other);
  // Moves `bytes` (at most what it holds) into a lease of their own: one acquisition shared out
  // among the items of a batch.
  MemoryLease Split(uint64_t bytes);
  void Release() { ShrinkTo(0); }

 private:
  friend class MemoryBudget;
  MemoryLease(MemoryBudget* budget, uint64_t bytes, bool for_run) : budget_(budget), bytes_(bytes), for_run_(for_run) {}
  MemoryBudget* budget_ = nullptr;
  uint64_t bytes_ = 0;
  bool for_run_ = false;  // counted as held for the whole run (see AcquireForRun)
};

// A counting budget of bytes shared by threads. Thread-safe.
// Invariant: in_use() <= limit() at all times.
class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t limit) : limit_(limit) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Blocks until `bytes` fit. `caller_holds`: bytes of this budget the caller keeps while it
  // waits (they cannot come back to it). Errors: OverBudget at once when the request can never
  // fit, or while waiting once nothing held can come back and this is the largest request
  // waiting; Cancelled after Cancel().
  Result<MemoryLease> Acquire(uint64_t bytes, uint64_t caller_holds = 0);
  // Acquire without waiting: OverBudget when the bytes do not fit now.
  Result<MemoryLease> TryAcquire(uint64_t bytes);
  // For what is held from a run's start to its end (a detector's working memory): such bytes
  // never come back while the run goes on, so they lower what any other request can get.
  Result<MemoryLease> AcquireForRun(uint64_t bytes);
  // Wakes every waiter; later Acquire calls fail with Cancelled.
  void Cancel();

  uint64_t limit() const { return limit_; }
  uint64_t in_use() const;
  uint64_t peak() const;
  // The most one request can ever get while `caller_holds` stays held: the limit less what is
  // held for the run.
  uint64_t most_available(uint64_t caller_holds = 0) const;

 private:
  friend class MemoryLease;
  struct Waiter {
    uint64_t bytes;
    uint64_t holds;
    bool refused = false;
  };
  void Give(uint64_t bytes, bool for_run);
  MemoryLease GrantLocked(uint64_t bytes, bool for_run) REQUIRES(mutex_);
  // Marks the largest waiter refused when no held byte can come back. Returns true if it did.
  bool RefuseIfStuckLocked() REQUIRES(mutex_);
  Status OverBudgetLocked(uint64_t bytes, uint64_t holds) const REQUIRES(mutex_);

  const uint64_t limit_;  // constant after construction
  mutable Mutex mutex_;
  std::condition_variable_any changed_;
  uint64_t in_use_ GUARDED_BY(mutex_) = 0;
  uint64_t for_run_ GUARDED_BY(mutex_) = 0;  // part of in_use_ held for the whole run
  uint64_t peak_ GUARDED_BY(mutex_) = 0;
  bool cancelled_ GUARDED_BY(mutex_) = false;
  std::list<Waiter> waiters_ GUARDED_BY(mutex_);
  uint64_t waiters_hold_ GUARDED_BY(mutex_) = 0;  // sum of waiters_[].holds
};

}  // namespace mediadex

#endif  // MEDIADEX_CORE_MEMORY_H_
