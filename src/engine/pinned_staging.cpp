#include "engine/pinned_staging.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace mediadex::engine {

PinnedStagingPool::PinnedStagingPool(std::vector<int64_t> shape, size_t max_blocks)
    : shape_(std::move(shape)), max_blocks_(std::max<size_t>(1, max_blocks)) {}

PinnedStagingPool::Block PinnedStagingPool::Take() const {
  Block taken;
  {
    MutexLock lock(mu_);
    auto done = std::find_if(free_.begin(), free_.end(), [](const Block& b) { return !b.copied || b.copied->query(); });
    if (done == free_.end() && made_ >= max_blocks_) done = free_.begin();
    if (done != free_.end()) {
      taken = std::move(*done);
      free_.erase(done);
    } else {
      ++made_;
    }
  }
  // Done already, unless every block was busy (c10::Event has no synchronize in LibTorch 1.13).
  while (taken.copied && !taken.copied->query()) std::this_thread::sleep_for(std::chrono::microseconds(50));
  if (!taken.tensor.defined())
    taken.tensor = at::empty(shape_, at::TensorOptions().dtype(at::kFloat).pinned_memory(true));
  return taken;
}

void PinnedStagingPool::Return(Block block) const {
  MutexLock lock(mu_);
  free_.push_back(std::move(block));
}

}  // namespace mediadex::engine
