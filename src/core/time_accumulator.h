// Seconds summed over many timed spans, from any thread: where a stage's time goes (-v logs).
#ifndef MEDIADEX_CORE_TIME_ACCUMULATOR_H_
#define MEDIADEX_CORE_TIME_ACCUMULATOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace mediadex {

struct TimeAccumulator {
  using Clock = std::chrono::steady_clock;
  std::atomic<int64_t> micros{0};
  // Adds the time from `since` until now.
  void Add(Clock::time_point since) {
    micros += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - since).count();
  }
  double seconds() const { return static_cast<double>(micros.load()) / 1e6; }
};

}  // namespace mediadex

#endif  // MEDIADEX_CORE_TIME_ACCUMULATOR_H_
