// Pinned (page-locked) host blocks that inputs are gathered into before one copy to a GPU: a
// copy from pageable memory is staged by the driver through small bounce buffers, each waited
// for, so a detector's Upload copies through these instead. For engine/ and model/ only (it
// holds LibTorch types).
//
//   engine::PinnedStagingPool pool({16, 512, 512, 3}, /*blocks=*/4);
//   auto block = pool.Take();                  // a block whose last copy has finished
//   ... fill block.tensor, start block.tensor -> GPU copy on a stream ...
//   block.copied = event_recorded_after_the_copy;
//   pool.Return(std::move(block));
#ifndef MEDIADEX_ENGINE_PINNED_STAGING_H_
#define MEDIADEX_ENGINE_PINNED_STAGING_H_

#include <ATen/ATen.h>
#include <c10/core/Event.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "core/thread_annotations.h"

namespace mediadex::engine {

class PinnedStagingPool {
 public:
  struct Block {
    at::Tensor tensor;                         // float32, pinned, the pool's shape
    std::shared_ptr<const c10::Event> copied;  // the copy that last read it; null: none yet
  };

  // Blocks of `shape` (float32), made on first use, at most `max_blocks`; freed with the pool.
  PinnedStagingPool(std::vector<int64_t> shape, size_t max_blocks);

  // A block no copy is reading: a finished one if any, else a new one while fewer than
  // `max_blocks` exist, else the oldest, once its copy is done.
  Block Take() const;
  void Return(Block block) const;

 private:
  const std::vector<int64_t> shape_;
  const size_t max_blocks_;
  mutable Mutex mu_;
  mutable std::vector<Block> free_ GUARDED_BY(mu_);
  mutable size_t made_ GUARDED_BY(mu_) = 0;
};

}  // namespace mediadex::engine

#endif  // MEDIADEX_ENGINE_PINNED_STAGING_H_
