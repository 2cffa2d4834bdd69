#!/usr/bin/env bash
# Sets up a machine to build and run mediadex, then builds it into build/.
#
#   scripts/setup.sh            # runtime + build dependencies, the bundled model, a Release build
#   scripts/setup.sh --tests    # also what the tests need (GoogleTest, python3-torch, clang for fuzzers)
#
# Debian 12 (apt) and macOS (Homebrew) are supported. Safe to run again: it only adds what is
# missing and rebuilds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TESTS=OFF
for arg in "$@"; do
  case "$arg" in
    --tests) WITH_TESTS=ON ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

install_debian() {
  local packages=(
    build-essential cmake ninja-build pkg-config ccache
    libtorch-dev libopenblas0-openmp          # LibTorch (CPU); OpenMP OpenBLAS: 15x faster matmul
    libturbojpeg0-dev libpng-dev libwebp-dev libexif-dev libheif-dev libtiff-dev libgif-dev
    libavformat-dev libavcodec-dev libswscale-dev libavutil-dev   # video frames (FFmpeg)
    nlohmann-json3-dev libcli11-dev libspdlog-dev libxxhash-dev libsqlite3-dev
    libboost1.81-dev                          # serve: Boost.Beast + Asio (header-only)
    libpq-dev                                 # PostgreSQL catalogs (libpq, the C client)
  )
  # npm fetches the model (`npm pack`); node runs tests/server. Keep a Node.js that is already there.
  command -v npm >/dev/null || packages+=(nodejs npm)
  if [ "$WITH_TESTS" = ON ]; then
    packages+=(libgtest-dev libgmock-dev python3-torch clang libclang-rt-14-dev clang-format imagemagick
              postgresql    # the server the `pg` tests start (tests/pg/pg_fixture.sh)
              iproute2      # ip netns + veth for pg_queue_lease_loss_netns
              python3-numpy python3-pil)  # bench/accuracy: the mAP evaluator and the mosaic generator
  fi
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get install ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

install_macos() {
  command -v brew >/dev/null || { echo "setup.sh: Homebrew is required on macOS (https://brew.sh)" >&2; exit 1; }
  # Homebrew's pytorch carries LibTorch with Metal (MPS) support.
  local formulae=(cmake ninja pkg-config ccache pytorch jpeg-turbo libpng webp libexif libheif libtiff giflib ffmpeg
                  nlohmann-json cli11 spdlog xxhash sqlite libpq node boost)
  [ "$WITH_TESTS" = ON ] && formulae+=(googletest postgresql@15)
  brew install "${formulae[@]}"
  CMAKE_EXTRA+=("-DCMAKE_PREFIX_PATH=$(brew --prefix pytorch);$(brew --prefix jpeg-turbo)")
  # libpq is keg-only (not linked into the prefix): point pkg-config at it.
  export PKG_CONFIG_PATH="$(brew --prefix libpq)/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
}

CMAKE_EXTRA=()
case "$(uname -s)" in
  Linux)
    if [ -f /etc/debian_version ]; then install_debian
    else echo "setup.sh: only Debian/Ubuntu and macOS are automated; install the packages listed in this script by hand" >&2; fi ;;
  Darwin) install_macos ;;
  *) echo "setup.sh: unsupported system $(uname -s)" >&2; exit 1 ;;
esac

# --- browser tests (tests/browser): Debian's chromium, driven by playwright-core from npm ---
if [ "$WITH_TESTS" = ON ]; then
  if [ -f /etc/debian_version ] && ! dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed"; then
    say "apt-get install chromium (browser tests)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
  fi
  # On macOS the tests need MEDIADEX_CHROMIUM=/path/to/Chromium (no Debian package there).
  say "npm ci (tests/browser: playwright-core)"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
fi
# --- end of browser tests ---

say "model"
scripts/fetch-model.sh

say "build (build/, Release, tests=$WITH_TESTS)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DMEDIADEX_BUILD_TESTS="$WITH_TESTS" \
  -DMEDIADEX_BUILD_BENCH=ON "${CMAKE_EXTRA[@]}" >/dev/null
cmake --build build --parallel
say "ready: build/mediadex (try: build/mediadex doctor)"
