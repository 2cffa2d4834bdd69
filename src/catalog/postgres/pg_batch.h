// Writes one batch of results into a PostgreSQL catalog inside the caller's open transaction:
// what PostgresCatalog::CommitBatch does between its BEGIN and COMMIT, exposed so that the work
// queue can write a batch and check its lease in the same transaction.
//
//   postgres::Transaction tx(conn);
//   MDX_RETURN_IF_ERROR(tx.Begin());
//   ... check the lease token ...
//   MDX_RETURN_IF_ERROR(postgres::WriteBatch(conn, model_id, run_id, results));
//   MDX_RETURN_IF_ERROR(tx.Commit());
//
// A constant number of round trips per batch, whatever its size: the results go into a
// temporary table by COPY, media/analyses/old detections are updated from it set-wise, and the
// new detections go in by COPY (or multi-row INSERTs, kept for comparison: docs/performance.md).
#ifndef MEDIADEX_CATALOG_POSTGRES_PG_BATCH_H_
#define MEDIADEX_CATALOG_POSTGRES_PG_BATCH_H_

#include <cstdint>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/postgres/pg_connection.h"
#include "core/status.h"

namespace mediadex::catalog::postgres {

enum class DetectionInsert { kCopy, kMultiRowInsert };

// Same semantics as SqliteCatalog::CommitBatch: each file's detections for this model replaced,
// its analysis row (done or failed, for its present size and mtime) and metadata written, the
// run's live counts advanced (run_id > 0). NotFound naming the media id when a result names a
// file the catalog does not have (the caller's transaction must then roll back). When a batch
// names one media id twice, the last result for it wins.
Status WriteBatch(Connection& conn, int64_t model_id, int64_t run_id, const std::vector<MediaResult>& results,
                  DetectionInsert insert = DetectionInsert::kCopy);

}  // namespace mediadex::catalog::postgres

#endif  // MEDIADEX_CATALOG_POSTGRES_PG_BATCH_H_
