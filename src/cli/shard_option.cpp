#include "cli/shard_option.h"

#include <algorithm>
#include <cstdlib>

namespace mediadex::cli {

Result<ResolvedShard> ResolveShard(const std::string& value, int64_t shards,
                                   const std::function<const char*(const char*)>& getenv) {
  ResolvedShard out;
  if (!value.empty() && value != "auto") {
    auto shard = pipeline::ParseShard(value);
    if (!shard.ok()) return shard.status();
    if (shards > 0 && shards != shard->count) {
      return InvalidArgument("--shard " + value + " and --shards " + std::to_string(shards) + " disagree");
    }
    out.shard = *shard;
    out.source = "--shard " + value;
    return out;
  }
  const char* k8s = getenv("JOB_COMPLETION_INDEX");
  if (k8s != nullptr && *k8s != '\0') {
    if (shards <= 0) {
      return InvalidArgument(
          "--shard auto: JOB_COMPLETION_INDEX=" + std::string(k8s) +
          " (Kubernetes) gives this shard's index but not the count; add --shards N (the Job's completions)");
    }
    auto shard = pipeline::ParseShard(std::string(k8s) + "/" + std::to_string(shards));
    if (!shard.ok()) return shard.status().WithContext("JOB_COMPLETION_INDEX");
    out.shard = *shard;
    out.source =
        "JOB_COMPLETION_INDEX=" + std::string(k8s) + " (Kubernetes Indexed Job) and --shards " + std::to_string(shards);
    return out;
  }
  const char* slurm_id = getenv("SLURM_ARRAY_TASK_ID");
  if (slurm_id != nullptr && *slurm_id != '\0') {
    const char* slurm_count = getenv("SLURM_ARRAY_TASK_COUNT");
    std::string count = shards > 0 ? std::to_string(shards) : slurm_count != nullptr ? slurm_count : "";
    if (count.empty()) {
      return InvalidArgument("--shard auto: SLURM_ARRAY_TASK_ID=" + std::string(slurm_id) +
                             " without SLURM_ARRAY_TASK_COUNT; add --shards N");
    }
    auto shard = pipeline::ParseShard(std::string(slurm_id) + "/" + count);
    if (!shard.ok()) {
      return shard.status().WithContext("SLURM_ARRAY_TASK_ID (the array must be 0-based: --array=0-" +
                                        std::to_string(std::max<int64_t>(1, std::atoll(count.c_str())) - 1) + ")");
    }
    out.shard = *shard;
    out.source = "SLURM_ARRAY_TASK_ID=" + std::string(slurm_id) + " of " +
                 (shards > 0 ? "--shards " + count : "SLURM_ARRAY_TASK_COUNT=" + count) + " (Slurm job array)";
    return out;
  }
  return InvalidArgument(
      "--shard auto: neither JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs) nor SLURM_ARRAY_TASK_ID (Slurm arrays) "
      "is set; give the shard as --shard I/N");
}

}  // namespace mediadex::cli
