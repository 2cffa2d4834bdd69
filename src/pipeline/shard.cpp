#include "pipeline/shard.h"

#include <cstdlib>

#include "core/hash.h"

namespace mediadex::pipeline {
namespace {

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty() || s.size() > 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  *out = std::strtoll(s.c_str(), nullptr, 10);
  return true;
}

}  // namespace

Result<Shard> ParseShard(const std::string& text) {
  const size_t slash = text.find('/');
  Shard shard;
  if (slash == std::string::npos || !ParseInt(text.substr(0, slash), &shard.index) ||
      !ParseInt(text.substr(slash + 1), &shard.count) || shard.count < 1 || shard.index >= shard.count) {
    return InvalidArgument("--shard '" + text + "': expected I/N with 0 <= I < N (0-based, e.g. 0/4 ... 3/4)");
  }
  return shard;
}

std::string RelativeToRoots(const std::string& path, const std::vector<std::string>& roots) {
  size_t best = std::string::npos;
  for (const auto& root : roots) {
    const bool under = path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                       (root.back() == '/' || path[root.size()] == '/');
    if ((under || path == root) && (best == std::string::npos || root.size() > best)) best = root.size();
  }
  if (best == std::string::npos) return path;
  if (best == path.size()) return path.substr(path.rfind('/') + 1);  // a file given as a root
  const size_t start = path[best] == '/' ? best + 1 : best;
  return path.substr(start);
}

int64_t ShardOf(const std::string& path, const std::vector<std::string>& roots, int64_t count) {
  if (count <= 1) return 0;
  const std::string key = RelativeToRoots(path, roots);
  return static_cast<int64_t>(HashBytes(key.data(), key.size()) % static_cast<uint64_t>(count));
}

}  // namespace mediadex::pipeline
