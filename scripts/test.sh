#!/usr/bin/env bash
# Sets up (with test dependencies), builds, and runs the whole test suite:
#   1. every CTest test of the Release build (labels unit, e2e, slow);
#   2. the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/);
#   3. the pipeline's and core's unit tests under ThreadSanitizer (build-tsan/, clang, which
#      also checks the thread-safety annotations);
#   4. every libFuzzer target for FUZZ_SECONDS (default 60) on its seed corpus (build-fuzz/);
#   5. the format check (scripts/format.sh --check).
# Set MEDIADEX_SKIP_SANITIZE=1 or MEDIADEX_SKIP_FUZZ=1 to leave out steps 2-3 or 4 locally.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "==> $* (at ${SECONDS}s)"; }
scripts/setup.sh --tests

step "tests (Release)"
ctest --test-dir build --output-on-failure --timeout 900

if [ "${MEDIADEX_SKIP_SANITIZE:-0}" != 1 ]; then
  step "unit tests under ASan + UBSan (build-asan/)"
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEDIADEX_SANITIZE=ON \
    -DMEDIADEX_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan --parallel
  # LibTorch itself is not instrumented; container-overflow checks need every caller instrumented.
  ASAN_OPTIONS=detect_leaks=0:detect_container_overflow=0 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan -L unit --output-on-failure --timeout 900

  step "pipeline and core unit tests under ThreadSanitizer (build-tsan/)"
  cmake --preset tsan -DMEDIADEX_BUILD_TESTS=ON >/dev/null
  cmake --build build-tsan --parallel --target stages_test core_test
  # LibTorch and OpenMP are not instrumented; these tests run none of their code.
  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    ctest --test-dir build-tsan -R '^(StagesTest|MemoryBudgetTest|MemoryLeaseTest|BoundedQueueTest)\.' \
    --output-on-failure --timeout 900 --no-tests=error
fi

if [ "${MEDIADEX_SKIP_FUZZ:-0}" != 1 ]; then
  step "fuzzers"
  scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
fi
step "format check"
scripts/format.sh --check
step "all passed"
