#!/usr/bin/env bash
# bench/gpu/device_run.sh: what one call on the lent GPU machine runs (docs/gpu.md): build and
# test with scripts/gpu-build.sh, then every benchmark of bench/gpu/run.sh. Keeps the results
# in $OUT (few files: the device tool returns at most eight).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/mediadex-device}
mkdir -p "$OUT"
OUT=/tmp/gpu-build scripts/gpu-build.sh > "$OUT/gpu-build.txt" 2>&1
echo "gpu-build rc=$?"
cat /tmp/gpu-build/summary.txt
cp /tmp/gpu-build/tests.log "$OUT/" 2>/dev/null
OUT=/tmp/gpu-bench bench/gpu/run.sh build-cuda "${N:-2000}" > "$OUT/bench.txt" 2>&1
echo "bench rc=$?"
tar -C /tmp -czf "$OUT/bench-results.tgz" gpu-bench
cat "$OUT/bench.txt"
