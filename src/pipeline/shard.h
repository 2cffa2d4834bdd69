// Static splitting of a library for existing schedulers (`index --shard I/N`): a file belongs to
// shard xxh3(path relative to its library root) mod N. The key depends only on that relative
// path, never on the bytes, the mount point or the catalog, so every machine that mounts the
// library anywhere agrees on the split, and N runs of shards 0..N-1 cover each file once.
//
//   pipeline::Shard shard{2, 8};                   // 0-based, as Kubernetes' JOB_COMPLETION_INDEX
//   if (pipeline::InShard(path, roots, shard)) ...  // roots in NormalRoots() form
#ifndef MEDIADEX_PIPELINE_SHARD_H_
#define MEDIADEX_PIPELINE_SHARD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace mediadex::pipeline {

struct Shard {
  int64_t index = 0;  // 0-based
  int64_t count = 1;  // 1 = the whole library
  bool all() const { return count <= 1; }
  std::string ToString() const { return std::to_string(index) + "/" + std::to_string(count); }
};

// "I/N" with 0 <= I < N. InvalidArgument naming the text otherwise.
Result<Shard> ParseShard(const std::string& text);

// The path relative to the longest root it lies under (its file name when it is a root itself);
// the whole path when it lies under none.
std::string RelativeToRoots(const std::string& path, const std::vector<std::string>& roots);

// The shard `path` (absolute, under one of `roots`) falls in, of `count`.
int64_t ShardOf(const std::string& path, const std::vector<std::string>& roots, int64_t count);

inline bool InShard(const std::string& path, const std::vector<std::string>& roots, const Shard& shard) {
  return shard.all() || ShardOf(path, roots, shard.count) == shard.index;
}

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_SHARD_H_
