// A cancellation token: whoever started long work (Ctrl-C, the server's cancel button, a
// worker told to stop) asks it to stop; the work looks at the token between steps, finishes
// what it must to lose nothing, and returns saying it was cancelled. Thread-safe; cheap to read.
#ifndef MEDIADEX_CORE_CANCEL_H_
#define MEDIADEX_CORE_CANCEL_H_

#include <atomic>

namespace mediadex {

class CancelToken {
 public:
  // Safe from a signal handler (a lock-free atomic store).
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
  static_assert(std::atomic<bool>::is_always_lock_free, "Cancel() must be safe in a signal handler");
};

}  // namespace mediadex

#endif  // MEDIADEX_CORE_CANCEL_H_
