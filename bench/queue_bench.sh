#!/usr/bin/env bash
# The work queue's throughput matrix (docs/scaling.md, docs/performance.md "Catalog: the work
# queue"): bench/queue_bench against a throw-away PostgreSQL server started as the pg tests start
# theirs (tests/pg/pg_fixture.sh: temp data dir, free loopback port, stopped at exit), with
# fsync ON so that commits pay for durability. Each configuration gets a fresh database.
#
#   bench/queue_bench.sh [BUILD_DIR] [FILES] [ROUNDS]
#
# Rows: workers 1/2/4/8 at batch 64; batch 16/64/256 at 4 workers; synchronous_commit off; the
# detections by multi-row INSERT instead of COPY. Each round runs every row once (interleaved,
# so load from other processes spreads over all of them); the summary gives each row's best
# round. One JSON line per run goes to stdout, then the summary table.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build} files=${2:-20000} rounds=${3:-2}
bin=$build/bench/queue_bench
[ -x "$bin" ] || { echo "queue_bench.sh: $bin missing: cmake --build $build --target queue_bench" >&2; exit 1; }
state=$(mktemp -d /tmp/mdx-queuebench-XXXXXX)
trap 'tests/pg/pg_fixture.sh stop "$state/pg"; rm -rf "$state"' EXIT
PG_FIXTURE_FSYNC=on tests/pg/pg_fixture.sh start "$state/pg" >&2
server=$(cat "$state/pg/url")
configs=(
  "--workers 1 --batch 64"
  "--workers 2 --batch 64"
  "--workers 4 --batch 64"
  "--workers 8 --batch 64"
  "--workers 4 --batch 16"
  "--workers 4 --batch 256"
  "--workers 4 --batch 64 --synchronous-commit off"
  "--workers 4 --batch 64 --insert values"
)
n=0
for _ in $(seq "$rounds"); do
  for c in "${configs[@]}"; do
    n=$((n + 1))
    psql -q "$server" -c "CREATE DATABASE qbench$n" >/dev/null
    # shellcheck disable=SC2086
    "$bin" --catalog "${server%/*}/qbench$n" --files "$files" --detections 10 $c | tee -a "$state/results.jsonl"
    psql -q "$server" -c "DROP DATABASE qbench$n" >/dev/null
  done
done
python3 - "$state/results.jsonl" <<'PY'
import json, sys
runs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
key = lambda r: (r["workers"], r["batch"], r["synchronous_commit"], r["insert"])
best = {}
for r in runs:
    k = key(r)
    best.setdefault(k, []).append(r)
print("| workers | batch | synchronous_commit | detections by | claims/s | photos/s | detections/s | claim p50/p99 ms | finish p50/p99 ms | client CPU s | all rounds, photos/s |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for k, rs in best.items():
    b = max(rs, key=lambda r: r["photos_per_s"])
    rounds = ", ".join("%.0f" % r["photos_per_s"] for r in rs)
    if not all(r["exactly_once"] for r in rs): print("NOT EXACTLY ONCE:", k)
    print(f"| {k[0]} | {k[1]} | {k[2]} | {'COPY' if k[3] == 'copy' else 'multi-row INSERT'} | {b['claims_per_s']:.0f} | "
          f"{b['photos_per_s']:.0f} | {b['detections_per_s']:.0f} | {b['claim_ms_p50']:.1f} / {b['claim_ms_p99']:.1f} | "
          f"{b['finish_ms_p50']:.1f} / {b['finish_ms_p99']:.1f} | {b['client_cpu_s']:.1f} | "
          f"{rounds} |")
PY
