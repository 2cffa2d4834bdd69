#!/usr/bin/env bash
# Builds every libFuzzer target (fuzz/*_fuzz.cpp) with clang into build-fuzz and runs each for
# SECONDS (default 60) on a scratch copy of its seed corpus fuzz/corpus/<name without _fuzz>/.
# Fails if any fuzzer crashes, leaks, times out on one input, trips a sanitizer or runs out of
# memory: one allocation over MALLOC_LIMIT_MB (default 512) or a peak RSS over RSS_LIMIT_MB
# (default 1024), both well under the 8 GiB --max-memory default, so that a small input that
# makes a decoder allocate what its headers declare is caught (issue #21); the input that did
# it is kept in build-fuzz/artifacts/ (turn it into a regression test).
#   scripts/fuzz.sh [SECONDS]            all fuzzers
#   FUZZERS="decode_png_fuzz" scripts/fuzz.sh 30   only some
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
malloc_limit_mb="${MALLOC_LIMIT_MB:-512}"
rss_limit_mb="${RSS_LIMIT_MB:-1024}"
build=build-fuzz

all=()
for src in fuzz/*_fuzz.cpp; do all+=("$(basename "$src" .cpp)"); done
read -r -a fuzzers <<< "${FUZZERS:-${all[*]}}"
[ "${#fuzzers[@]}" -gt 0 ] || { echo "fuzz.sh: no fuzz/*_fuzz.cpp" >&2; exit 1; }

# Instrument our libraries too (not only the fuzz entry points), so libFuzzer sees coverage of
# the decoders' own code and ASan checks it. System libraries stay uninstrumented.
instrument="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMEDIADEX_BUILD_FUZZERS=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DMEDIADEX_BUILD_TESTS=OFF -DMEDIADEX_BUILD_BENCH=OFF \
  -DCMAKE_C_FLAGS="$instrument" -DCMAKE_CXX_FLAGS="$instrument" > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log" >&2; exit 1; }
cmake --build "$build" --target "${fuzzers[@]}" -j"$(nproc)"

mkdir -p "$build/artifacts"
failed=()
for name in "${fuzzers[@]}"; do
  corpus="fuzz/corpus/${name%_fuzz}"
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  echo "== $name: ${seconds}s on $(find "$work" -type f | wc -l) seed inputs"
  # ASan's quarantine of freed memory counts in the RSS: a smaller one leaves -rss_limit_mb to
  # what the decoders hold.
  if ! ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=64}" \
      LSAN_OPTIONS="suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0" "$build/fuzz/$name" -max_total_time="$seconds" -timeout=25 \
      -malloc_limit_mb="$malloc_limit_mb" -rss_limit_mb="$rss_limit_mb" \
      -print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" "$work" \
      > "$build/artifacts/$name.log" 2>&1; then
    failed+=("$name")
    tail -40 "$build/artifacts/$name.log" >&2
  elif grep -q "ERROR: libFuzzer: out-of-memory" \
      "$build/artifacts/$name.log"; then
    failed+=("$name")  # an out-of-memory report fails the run like a crash, whatever the exit code
    grep -A20 "ERROR: libFuzzer: out-of-memory" "$build/artifacts/$name.log" | head -40 >&2
  fi
  grep -E "^stat::(number_of_executed_units|peak_rss_mb)|cov: " "$build/artifacts/$name.log" | tail -3 || true
  rm -rf "$work"
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "fuzz.sh: ${#fuzzers[@]} fuzzers ran ${seconds}s each without a crash"
