#!/usr/bin/env bash
# CommitBatch throughput matrix (docs/performance.md, "Catalog: CommitBatch"): SQLite, and
# PostgreSQL with COPY / multi-row INSERT and synchronous_commit on / off, on the same data, with
# a throw-away server started with fsync ON (tests/pg/pg_fixture.sh) so commits pay for durability.
#
#   bench/catalog_bench.sh [BUILD_DIR] [FILES] [BATCH] [DETECTIONS] [ROUNDS]
#
# Each round runs every configuration once (interleaved, so load from other processes spreads
# over all of them); compare the best round of each on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build} files=${2:-20000} batch=${3:-64} dets=${4:-8} rounds=${5:-1}
bin=$build/bench/catalog_bench
[ -x "$bin" ] || { echo "catalog_bench.sh: $bin missing: cmake --build $build --target catalog_bench" >&2; exit 1; }
state=$(mktemp -d /tmp/mdx-catbench-XXXXXX)
trap 'tests/pg/pg_fixture.sh stop "$state/pg"; rm -rf "$state"' EXIT
PG_FIXTURE_FSYNC=on tests/pg/pg_fixture.sh start "$state/pg" >&2
server=$(cat "$state/pg/url")
args=(--files "$files" --batch "$batch" --detections "$dets")
n=0
for _ in $(seq "$rounds"); do
  "$bin" --catalog "$state/bench.db" "${args[@]}"
  for insert in copy values; do
    for sync in on off; do
      n=$((n + 1))
      psql -q "$server" -c "CREATE DATABASE bench$n" >/dev/null
      "$bin" --catalog "${server%/*}/bench$n" --insert "$insert" --synchronous-commit "$sync" "${args[@]}"
      psql -q "$server" -c "DROP DATABASE bench$n" >/dev/null
    done
  done
done
