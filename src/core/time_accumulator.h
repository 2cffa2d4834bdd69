// Seconds summed over many timed spans, from any thread: where a stage's time goes (-v logs),
// and the CPU time a thread has used (wall time against CPU time tells a thread that waited
// for a core from one that waited for work).
#ifndef MEDIADEX_CORE_TIME_ACCUMULATOR_H_
#define MEDIADEX_CORE_TIME_ACCUMULATOR_H_

#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace mediadex {

struct TimeAccumulator {
  using Clock = std::chrono::steady_clock;
  std::atomic<int64_t> micros{0};
  // Adds the time from `since` until now.
  void Add(Clock::time_point since) {
    micros += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - since).count();
  }
  double seconds() const { return static_cast<double>(micros.load()) / 1e6; }
  void Reset() { micros = 0; }
};

// The first and last of moments given from any thread, in seconds (-v: when threads of one
// stage ran out of work). 0 and 0 until one is given.
class FirstAndLast {
 public:
  void Add(double seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    first_ = count_ == 0 ? seconds : std::min(first_, seconds);
    last_ = count_ == 0 ? seconds : std::max(last_, seconds);
    ++count_;
  }
  double first() const {
    std::lock_guard<std::mutex> lock(mu_);
    return first_;
  }
  double last() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }

 private:
  mutable std::mutex mu_;
  double first_ = 0, last_ = 0;  // GUARDED_BY(mu_)
  int64_t count_ = 0;            // GUARDED_BY(mu_)
};

// A CPU-time clock in microseconds (0 where the clock is missing).
inline int64_t CpuMicros(clockid_t clock) {
  timespec t{};
  return clock_gettime(clock, &t) == 0 ? t.tv_sec * 1000000 + t.tv_nsec / 1000 : 0;
}
// CPU time the calling thread, or the whole process, has used.
inline int64_t ThisThreadsCpuMicros() { return CpuMicros(CLOCK_THREAD_CPUTIME_ID); }
inline int64_t ProcessCpuMicros() { return CpuMicros(CLOCK_PROCESS_CPUTIME_ID); }

// Adds the CPU time the calling thread uses from its construction to its end to `total`.
class ThreadCpuTime {
 public:
  explicit ThreadCpuTime(TimeAccumulator& total) : total_(total), start_(ThisThreadsCpuMicros()) {}
  ~ThreadCpuTime() { total_.micros += ThisThreadsCpuMicros() - start_; }
  ThreadCpuTime(const ThreadCpuTime&) = delete;
  ThreadCpuTime& operator=(const ThreadCpuTime&) = delete;

 private:
  TimeAccumulator& total_;
  int64_t start_;
};

}  // namespace mediadex

#endif  // MEDIADEX_CORE_TIME_ACCUMULATOR_H_
