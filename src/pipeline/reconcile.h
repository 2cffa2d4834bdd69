// Reconciliation: what a scan found against what the catalog knows — new, changed, moved
// (same bytes at a new path) and gone files.
#ifndef MEDIADEX_PIPELINE_RECONCILE_H_
#define MEDIADEX_PIPELINE_RECONCILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/status.h"
#include "media/scan.h"
#include "pipeline/shard.h"

namespace mediadex::pipeline {

struct Reconciled {
  catalog::ScanChanges changes;
  int64_t unchanged = 0;
};

// The roots as absolute, normal paths without a trailing slash: the form the catalog stores.
std::vector<std::string> NormalRoots(const std::vector<std::string>& roots);

// True when `path` is one of `roots` (normal form) or lies under one.
bool UnderRoots(const std::string& path, const std::vector<std::string>& roots);

// The content hash the catalog keeps (16 hex digits). `sampled` (videos): the size and the
// first and last 4 MiB only, so a film is not read twice.
Result<std::string> HashFile(const std::string& path, bool sampled, uint64_t size);

// Compares `scan` with the catalog's files under `roots`. Only stats (no reads) for unchanged
// files; a new file is hashed only when a file of the same size vanished (a move candidate).
// With a `shard`, `scan` must hold only that shard's files, and only files of that shard are
// gone or move candidates: a file of another shard was not scanned, it did not vanish.
Result<Reconciled> Reconcile(catalog::Catalog& catalog, const media::ScanReport& scan,
                             const std::vector<std::string>& roots, const Shard& shard = {});

}  // namespace mediadex::pipeline

#endif  // MEDIADEX_PIPELINE_RECONCILE_H_
