#!/usr/bin/env bash
# bench/run.sh [SECONDS]: detection images/s, mediadex beside TF.js (wasm, SIMD), same run,
# same machine, same model, same photos. Prints a Markdown table for docs/performance.md.
#   photo sets: the sample photos (../shared/testdata/photos, else samples/) and 4000x3000
#   JPEGs made from them (bench/make_large_jpegs.sh, cached in build/bench-data/).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER=${1:-20}
PHOTOS=../shared/testdata/photos
[ -d "$PHOTOS" ] || PHOTOS=samples
LARGE=build/bench-data/large-4000x3000
bench/make_large_jpegs.sh "$PHOTOS" "$LARGE" 8 >/dev/null
[ -x build/bench/detect_bench ] || cmake --build build --target detect_bench
[ -d bench/tfjs/node_modules ] || (cd bench/tfjs && npm ci --silent)

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }
echo "| photos | engine | model-only img/s | end-to-end img/s |"
echo "|---|---|---|---|"
for set in "$PHOTOS" "$LARGE"; do
  name=$(basename "$set")
  md=$(build/bench/detect_bench --photos "$set" --model models/centernet.json --seconds "$SECONDS_PER" --batch-size 8)
  tj=$(node bench/tfjs/bench.mjs --model models/centernet.json --photos "$set" --seconds "$SECONDS_PER" 2>/dev/null)
  echo "| $name | mediadex ($(field "$md" device), $(field "$md" threads_end_to_end) inference threads end-to-end) | $(field "$md" model_only_ips) | $(field "$md" end_to_end_ips) |"
  echo "| $name | TF.js $(field "$tj" tfjs_version) wasm (SIMD $(field "$tj" simd)) | $(field "$tj" model_only_ips) | $(field "$tj" end_to_end_ips) |"
done
echo
echo "$(date -u +%F), $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), command: bench/run.sh $SECONDS_PER"
