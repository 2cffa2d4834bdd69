#!/usr/bin/env bash
# Configures, builds and tests mediadex against PyTorch's CUDA LibTorch on an NVIDIA machine
# (docs/gpu.md). Run from anywhere; it works in the repository root.
#
#   scripts/gpu-build.sh                 # build-cuda/, unit + gpu tests, doctor, detect samples/
#   scripts/gpu-build.sh --no-tests      # build and smoke-run only
#   scripts/gpu-build.sh --configure-only
#   OUT=/some/dir scripts/gpu-build.sh   # also keep build.log, tests.log, summary.txt there
#
# Dependencies come from the system (apt install, see scripts/setup.sh) or, on a machine with no
# package manager, from the bundle that scripts/gpu-deps.sh makes: .deps/bundle.tar.xz (or an
# unpacked .deps/root). The bundle's libraries win over the system's -dev packages.
# Environment: BUILD_DIR (build-cuda), JOBS (all cores), TORCH_PYTHON (python3 with torch),
# CTEST_EXCLUDE (ctest -E regex; default: what the bundle leaves out).
set -uo pipefail
cd "$(dirname "$0")/.."

RUN_TESTS=1
CONFIGURE_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --no-tests) RUN_TESTS=0 ;;
    --configure-only) CONFIGURE_ONLY=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "gpu-build.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

BUILD_DIR=${BUILD_DIR:-build-cuda}
JOBS=${JOBS:-$(nproc)}
OUT_DIR=${OUT:-$BUILD_DIR/logs}
mkdir -p "$OUT_DIR"
SUMMARY=$OUT_DIR/summary.txt
: > "$SUMMARY"
say() { printf '==> %s\n' "$*"; printf '%s\n' "$*" >> "$SUMMARY"; }
die() { say "FAILED: $*"; exit 1; }
T0=$(date +%s)
stamp() { echo "$(( $(date +%s) - T0 ))s"; }

# --- LibTorch (Python's torch) and CUDA -----------------------------------------------------
TORCH_PYTHON=${TORCH_PYTHON:-$(command -v python3)}
TORCH_PREFIX=$("$TORCH_PYTHON" -c 'import torch; print(torch.utils.cmake_prefix_path)') ||
  die "$TORCH_PYTHON has no torch (set TORCH_PYTHON to a Python with PyTorch)"
say "torch: $("$TORCH_PYTHON" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda, "devices", torch.cuda.device_count())')"
# Newer PyTorch headers demand C++20 (#error in the headers); build the whole tree in it then.
TORCH_INCLUDE=$("$TORCH_PYTHON" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "include"))')
CXX_STD=${CXX_STD:-17}
if grep -rqs 'C++20 or later compatible compiler is required' "$TORCH_INCLUDE/c10" "$TORCH_INCLUDE/ATen" 2>/dev/null; then
  CXX_STD=20
fi
if ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && { export PATH=$d:$PATH; break; }; done
fi
command -v nvcc >/dev/null && export CUDACXX=${CUDACXX:-$(command -v nvcc)}
command -v nvidia-smi >/dev/null && say "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | paste -sd';')"

# --- the carried bundle ---------------------------------------------------------------------
CMAKE_PREFIX=$TORCH_PREFIX
CMAKE_EXTRA=()
if [ -f .deps/bundle.tar.xz ] && [ ! -d .deps/root ]; then
  if command -v xz >/dev/null; then tar -C .deps -xJf .deps/bundle.tar.xz
  else "$TORCH_PYTHON" -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' .deps/bundle.tar.xz .deps
  fi || die "could not unpack .deps/bundle.tar.xz"
fi
if [ -d .deps/root ]; then
  ROOT=$PWD/.deps/root
  LIB=$ROOT/usr/lib/x86_64-linux-gnu
  # Where the system has a carried library's soname, use the system's (newer) build at link and
  # run time, so no process ends up with two builds of one library.
  swapped=()
  for soname in $(cat .deps/sonames.txt) libz.so.1; do
    sys=$(/sbin/ldconfig -p 2>/dev/null | awk -v s="$soname" '$1 == s && /x86-64/ {print $NF; exit}')
    if [ -n "$sys" ] && [ -e "$sys" ]; then ln -sfn "$sys" "$LIB/$soname"; swapped+=("$soname")
    elif [ "$soname" = libz.so.1 ]; then die "the system has no libz.so.1"
    fi
  done
  say "bundle: .deps/root ($(du -sh "$ROOT" | cut -f1)); system copies used for: ${swapped[*]:-none}"
  CMAKE_PREFIX="$ROOT/usr;$TORCH_PREFIX"
  export PKG_CONFIG_LIBDIR=$LIB/pkgconfig:$ROOT/usr/share/pkgconfig
  unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
  export LD_LIBRARY_PATH=$LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  if ! command -v pkg-config >/dev/null; then
    CMAKE_EXTRA+=("-DPKG_CONFIG_EXECUTABLE=$ROOT/usr/bin/pkgconf")
  fi
  source .deps/bundle.env 2>/dev/null || true
else
  say "bundle: none (.deps/root missing): dependencies from the system"
fi

# tests/CMakeLists.txt reads the test photos from ../shared/testdata/photos (else the 6 of
# samples/); where that is missing and gpu-deps.sh carried them, put them there.
if [ $RUN_TESTS = 1 ] && [ ! -e ../shared/testdata/photos ] && [ -f .deps/photos/SOURCES.md ]; then
  mkdir -p ../shared/testdata && ln -s "$PWD/.deps/photos" ../shared/testdata/photos &&
    say "test photos: ../shared/testdata/photos -> .deps/photos"
fi

# Tests that need what this build lacks fail loudly by design; leave those out of the run, by
# name, and say so (FFmpeg is never carried; HEIF only when the bundle has it).
if [ -z "${CTEST_EXCLUDE+x}" ]; then
  CTEST_EXCLUDE=""
  if [ -d .deps/root ]; then
    CTEST_EXCLUDE="^VideoTest\\."
    [ "${WITH_HEIF:-ON}" = ON ] || CTEST_EXCLUDE+="|^HeifTest\\."
  fi
fi

# --- configure and build --------------------------------------------------------------------
say "configure $BUILD_DIR, C++$CXX_STD ($(stamp))"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMEDIADEX_BUILD_FUZZERS=OFF \
  -DCMAKE_PREFIX_PATH="$CMAKE_PREFIX" -DMEDIADEX_TORCH_PYTHON="$TORCH_PYTHON" -DCMAKE_CXX_STANDARD="$CXX_STD" \
  "${CMAKE_EXTRA[@]}" \
  > "$OUT_DIR/configure.log" 2>&1 || { tail -40 "$OUT_DIR/configure.log"; die "configure (log: $OUT_DIR/configure.log)"; }
grep -E '^-- mediadex|Torch|CUDA' "$OUT_DIR/configure.log" | grep -v '^-- Found' | head -20 | tee -a "$SUMMARY"
grep -q 'CUDA=ON' "$OUT_DIR/configure.log" || say "WARNING: configured without CUDA"
[ $CONFIGURE_ONLY = 1 ] && exit 0

say "build -j$JOBS ($(stamp))"
cmake --build "$BUILD_DIR" -j "$JOBS" -- -k 0 > "$OUT_DIR/build.log" 2>&1
build_rc=$?
grep -E 'error|FAILED' "$OUT_DIR/build.log" | head -40 | tee -a "$SUMMARY"
[ $build_rc = 0 ] || say "build FAILED (rc $build_rc; log: $OUT_DIR/build.log); going on with what built"
say "build done ($(stamp))"

# --- tests ----------------------------------------------------------------------------------
status=$build_rc
if [ $RUN_TESTS = 1 ]; then
  for label in unit gpu; do
    ex=()
    [ -n "$CTEST_EXCLUDE" ] && ex=(-E "$CTEST_EXCLUDE")
    n=$(ctest --test-dir "$BUILD_DIR" -N -L "^$label\$" "${ex[@]}" 2>/dev/null | awk '/Total Tests:/ {print $3}')
    if [ "${n:-0}" = 0 ]; then say "ctest -L $label: no tests"; continue; fi
    say "ctest -L $label ${ex[*]} ($n tests, $(stamp))"
    ctest --test-dir "$BUILD_DIR" -L "^$label\$" "${ex[@]}" -j "$JOBS" --timeout 150 --output-on-failure \
      > "$OUT_DIR/ctest-$label.log" 2>&1 || status=1
    grep -E 'tests passed|tests failed|\*\*\*|Failed|Not Run|Total Test time' "$OUT_DIR/ctest-$label.log" | tee -a "$SUMMARY"
  done
  [ -n "$CTEST_EXCLUDE" ] && say "left out (not in this build): ctest -E '$CTEST_EXCLUDE'"
fi

# --- smoke: doctor and detect on the GPU ----------------------------------------------------
if [ -x "$BUILD_DIR/mediadex" ]; then
  say "mediadex doctor ($(stamp))"
  "$BUILD_DIR/mediadex" doctor 2>&1 | tee -a "$SUMMARY" || status=1
  say "mediadex detect --device cuda samples/ ($(stamp))"
  : > "$OUT_DIR/detect.err"
  for i in 1 2; do  # the second run shows warm (cached kernels) timings
    t=$(date +%s.%N)
    "$BUILD_DIR/mediadex" detect --device cuda samples/ > "$OUT_DIR/detect-$i.txt" 2>> "$OUT_DIR/detect.err" ||
      { status=1; say "detect run $i FAILED: $(tail -n 3 "$OUT_DIR/detect.err")"; }
    say "detect run $i: $(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s wall, $(grep -c . "$OUT_DIR/detect-$i.txt") output lines"
  done
  head -c 3000 "$OUT_DIR/detect-2.txt" | tee -a "$SUMMARY"
else
  say "no $BUILD_DIR/mediadex: nothing to smoke-run"; status=1
fi
say "done in $(stamp), status $status"
exit $status
