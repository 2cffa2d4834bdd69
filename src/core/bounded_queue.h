// A blocking FIFO with a capacity: the joint between two pipeline stages. A full queue makes
// the producer wait, so a fast stage can never run ahead of a slow one without bound.
#ifndef MEDIADEX_CORE_BOUNDED_QUEUE_H_
#define MEDIADEX_CORE_BOUNDED_QUEUE_H_

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace mediadex {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Blocks while full. Returns false (and drops the item) once the queue is closed.
  bool Push(T item) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Never blocks: false (the item stays with the caller) when the queue is full or closed.
  bool TryPush(T& item) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_ || items_.size() >= capacity_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Blocks until an item arrives; nullopt when the queue is closed and drained.
  std::optional<T> Pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    return TakeLocked();
  }

  // Like Pop() but gives up after `timeout` (nullopt).
  template <typename Rep, typename Period>
  std::optional<T> PopFor(std::chrono::duration<Rep, Period> timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    not_empty_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); });
    return TakeLocked();
  }

  // A batch: blocks for the first item, then takes up to `most` in all, waiting at most
  // `linger` for each next one. Empty when the queue is closed and drained.
  template <typename Rep, typename Period>
  std::vector<T> PopBatch(size_t most, std::chrono::duration<Rep, Period> linger) {
    std::vector<T> batch;
    for (auto item = Pop(); item; item = batch.size() < most ? PopFor(linger) : std::nullopt) {
      batch.push_back(std::move(*item));
    }
    return batch;
  }

  // No more pushes; consumers drain what is left, then get nullopt.
  void Close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  bool closed_and_empty() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return closed_ && items_.empty();
  }

 private:
  std::optional<T> TakeLocked() {
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable not_empty_, not_full_;
  std::deque<T> items_;  // GUARDED_BY(mutex_)
  bool closed_ = false;  // GUARDED_BY(mutex_)
};

}  // namespace mediadex

#endif  // MEDIADEX_CORE_BOUNDED_QUEUE_H_
