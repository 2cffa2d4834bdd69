// A bounded pool of worker threads for blocking work (catalog reads, decoding thumbnails), so
// the I/O threads only move bytes. Post() refuses work beyond `max_queued` instead of growing.
#ifndef MEDIADEX_SERVER_WORK_POOL_H_
#define MEDIADEX_SERVER_WORK_POOL_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mediadex::server {

class WorkPool {
 public:
  WorkPool(int threads, size_t max_queued);
  ~WorkPool();                            // finishes queued work, then joins
  bool Post(std::function<void()> task);  // false when the queue is full

 private:
  void Loop();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  const size_t max_queued_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace mediadex::server

#endif  // MEDIADEX_SERVER_WORK_POOL_H_
