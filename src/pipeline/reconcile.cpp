#include "pipeline/reconcile.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_map>
#include <unordered_set>

#include "core/hash.h"

namespace mediadex::pipeline {
namespace {

// Videos are identified by a sampled hash: their size plus the first and last 4 MiB.
constexpr uint64_t kVideoHashSample = 4ull << 20;

}  // namespace

std::vector<std::string> NormalRoots(const std::vector<std::string>& roots) {
  std::vector<std::string> normal;
  for (const auto& root : roots) {
    normal.push_back(std::filesystem::absolute(root).lexically_normal().string());
    if (normal.back().size() > 1 && normal.back().back() == '/') normal.back().pop_back();
  }
  return normal;
}

bool UnderRoots(const std::string& path, const std::vector<std::string>& roots) {
  for (const auto& root : roots) {
    if (path == root) return true;
    if (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
        (root.back() == '/' || path[root.size()] == '/')) {
      return true;
    }
  }
  return false;
}

Result<std::string> HashFile(const std::string& path, bool sampled, uint64_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IOError("cannot open for hashing");
  if (!sampled || size <= 2 * kVideoHashSample) {
    std::vector<char> bytes(size);
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx",
                  (unsigned long long)HashBytes(bytes.data(), static_cast<size_t>(in.gcount())));
    return std::string(hex);
  }
  std::vector<char> bytes(2 * kVideoHashSample + sizeof(uint64_t));
  in.read(bytes.data(), kVideoHashSample);
  in.seekg(static_cast<std::streamoff>(size - kVideoHashSample));
  in.read(bytes.data() + kVideoHashSample, kVideoHashSample);
  std::memcpy(bytes.data() + 2 * kVideoHashSample, &size, sizeof(size));
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)HashBytes(bytes.data(), bytes.size()));
  return std::string(hex);
}

Result<Reconciled> Reconcile(catalog::Catalog& catalog, const media::ScanReport& scan,
                             const std::vector<std::string>& roots, const Shard& shard) {
  auto index = catalog.LoadFileIndex();
  if (!index.ok()) return index.status();
  std::unordered_map<std::string, const catalog::MediaRow*> by_path;
  by_path.reserve(index->size());
  for (const auto& row : *index) by_path.emplace(row.path, &row);

  Reconciled r;
  std::unordered_set<std::string> seen;
  seen.reserve(scan.files.size());
  std::vector<const media::ScannedFile*> added;
  for (const auto& f : scan.files) {
    seen.insert(f.path);
    auto it = by_path.find(f.path);
    catalog::FileStat stat{f.path, f.size, f.mtime_ns,
                           f.is_video ? catalog::MediaKind::kVideo : catalog::MediaKind::kImage};
    if (it == by_path.end()) {
      added.push_back(&f);
    } else if (it->second->size != f.size || it->second->mtime_ns != f.mtime_ns) {
      r.changes.changed.emplace_back(it->second->id, stat);
    } else {
      ++r.unchanged;
    }
  }
  // Vanished files under the scanned roots, by size, as move candidates.
  std::unordered_multimap<uint64_t, const catalog::MediaRow*> missing_by_size;
  std::unordered_set<int64_t> missing;
  for (const auto& row : *index) {
    if (!seen.count(row.path) && UnderRoots(row.path, roots) && InShard(row.path, roots, shard)) {
      missing.insert(row.id);
      if (!row.content_hash.empty()) missing_by_size.emplace(row.size, &row);
    }
  }
  for (const auto* f : added) {
    catalog::FileStat stat{f->path, f->size, f->mtime_ns,
                           f->is_video ? catalog::MediaKind::kVideo : catalog::MediaKind::kImage};
    bool moved = false;
    auto [begin, end] = missing_by_size.equal_range(f->size);
    if (begin != end) {
      auto hash = HashFile(f->path, f->is_video, f->size);
      for (auto it = begin; hash.ok() && it != end; ++it) {
        if (missing.count(it->second->id) && it->second->content_hash == *hash) {
          r.changes.moved.emplace_back(it->second->id, f->path);
          // Same bytes, new timestamp (a copy rather than a rename): record the new mtime.
          if (it->second->mtime_ns != f->mtime_ns) r.changes.changed.emplace_back(it->second->id, stat);
          missing.erase(it->second->id);
          moved = true;
          break;
        }
      }
    }
    if (!moved) r.changes.added.push_back(stat);
  }
  r.changes.gone.assign(missing.begin(), missing.end());
  std::sort(r.changes.gone.begin(), r.changes.gone.end());
  return r;
}

}  // namespace mediadex::pipeline
