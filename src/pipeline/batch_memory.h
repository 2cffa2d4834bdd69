// `detect`'s share of --max-memory, for decoders that fill one batch while the previous batch
// is on the device. A decoder waits only for memory that will really come back (other
// decoders' file bytes and scratch, the previous batch once it is reported) and fails its file
// at once, saying why, when what it needs can never be free: the photos already decoded for
// its own batch wait for it, and the detector's working memory is reserved for the whole run.
//
//   BatchMemory memory(budget);
//   memory.Reserve(inference_bytes);   // for the run
//   memory.NextBatch();                // a batch starts decoding
//   if (Status s = memory.Acquire(n); !s.ok()) ...   // "needs 2.0 GiB, at most 1.1 GiB can be
//   free" memory.Pin(held);                  // stays until the batch is reported, then
//   Release(held)
#ifndef MEDIADEX_PIPELINE_BATCH_MEMORY_H_
#define MEDIADEX_PIPELINE_BATCH_MEMORY_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "core/status.h"

namespace mediadex::pipeline {

class BatchMemory {
 public:
  // limit 0: no limit (every call succeeds at once).
  explicit BatchMemory(uint64_t limit) : limit_(limit) {}

  // Takes `bytes` for the whole run (the detector's working memory); false when they do not fit.
  bool Reserve(uint64_t bytes);
  // Blocks until `bytes` fit; InvalidArgument "needs X, at most Y can be free under
  // --max-memory" at once when they never will (see above).
  Status Acquire(uint64_t bytes);
  // Non-blocking Acquire.
  bool TryAcquire(uint64_t bytes);
  void Release(uint64_t bytes);
  // `bytes` (acquired) stay until their batch is reported: they will not come back while the
  // current batch is decoded.
  void Pin(uint64_t bytes);
  // The current batch is complete and goes to the device: what it pinned will come back.
  void NextBatch();

  uint64_t limit() const { return limit_; }
  uint64_t peak() const;

 private:
  uint64_t CanBeFree() const { return limit_ - reserved_ - pinned_; }  // REQUIRES(mutex_)

  const uint64_t limit_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t in_use_ = 0;    // GUARDED_BY(mutex_), includes reserved_ and pinned_
  uint64_t reserved_ = 0;  // GUARDED_BY(mutex_)
  uint64_t pinned_ = 0;    // GUARDED_BY(mutex_), by the batch being decoded
  uint64_t peak_ = 0;      // GUARDED_BY(mutex_)
};

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_BATCH_MEMORY_H_
