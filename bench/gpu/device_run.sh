#!/usr/bin/env bash
# bench/gpu/device_run.sh: what one call on the lent GPU machine runs (docs/gpu.md): build with
# scripts/gpu-build.sh, the gpu-labelled tests, then every benchmark of bench/gpu/run.sh. Keeps
# the results in $OUT (few files: the device tool returns at most eight).
# NO_TESTS=1 skips the unit tests (the gpu tests always run); NO_BENCH=1 skips the benchmarks.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/mediadex-device}
mkdir -p "$OUT"
# The tests read the reference photos where tests/CMakeLists.txt looks for them, at configure.
[ -e ../shared/testdata/photos ] || { mkdir -p ../shared/testdata && ln -s "$PWD/.deps/photos" ../shared/testdata/photos; }
OUT=/tmp/gpu-build scripts/gpu-build.sh ${NO_TESTS:+--no-tests} > "$OUT/gpu-build.txt" 2>&1
rc=$?
echo "gpu-build rc=$rc"
cat /tmp/gpu-build/summary.txt
[ -x build-cuda/mediadex ] || { grep -B2 -A12 "error" /tmp/gpu-build/build.log | head -150; exit 1; }
# The carried libraries (scripts/gpu-deps.sh), as gpu-build.sh sets them up.
[ -d .deps/root ] && export LD_LIBRARY_PATH=$PWD/.deps/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
echo "== gpu tests"
[ "${NO_GPU_TESTS:-0}" = 1 ] || ctest --test-dir build-cuda -L '^gpu$' --timeout 300 --output-on-failure > "$OUT/gpu_tests.txt" 2>&1
grep -E "tests passed|tests failed|Failed|Passed|Not Run|Failure|Expected|Which is|actual" "$OUT/gpu_tests.txt" | head -60
[ "${NO_BENCH:-0}" = 1 ] && exit 0
OUT=/tmp/gpu-bench bench/gpu/run.sh build-cuda "${N:-2000}" > "$OUT/bench.txt" 2>&1
echo "bench rc=$?"
tar -C /tmp -czf "$OUT/results.tgz" gpu-bench gpu-build
cat "$OUT/bench.txt"
