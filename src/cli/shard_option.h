// `index --shard`: which static shard of the library this run takes (pipeline/shard.h), from
// the flag or from the scheduler's environment.
//
//   --shard 2/8                        shard 2 of 8 (0-based)
//   --shard (or --shard auto)          JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs; N from
//                                      --shards N), else SLURM_ARRAY_TASK_ID of
//                                      SLURM_ARRAY_TASK_COUNT (Slurm job arrays)
#ifndef MEDIADEX_CLI_SHARD_OPTION_H_
#define MEDIADEX_CLI_SHARD_OPTION_H_

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "pipeline/shard.h"

namespace mediadex::cli {

struct ResolvedShard {
  pipeline::Shard shard;
  std::string source;  // "--shard 2/8", "JOB_COMPLETION_INDEX=2 and --shards 8", ...
};

// `value` is what --shard was given ("" or "auto" to read the environment), `shards` the
// --shards N (0 when absent), `getenv` the environment. InvalidArgument naming what is missing.
Result<ResolvedShard> ResolveShard(const std::string& value, int64_t shards,
                                   const std::function<const char*(const char*)>& getenv);

}  // namespace mediadex::cli

#endif  // MEDIADEX_CLI_SHARD_OPTION_H_
