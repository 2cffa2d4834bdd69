#!/usr/bin/env bash
# bench/index_bench.sh [N] [NODE_VARIANTS]: `mediadex index` beside the original app's job done in
# Node (bench/node-pipeline: sharp + TF.js wasm + better-sqlite3, concurrency 3), in one run, on
# a library of N (default 500) 4000x3000 q90 JPEGs made from the sample photos and cached in
# build/bench-data/index-lib-N/. Prints Markdown tables for docs/performance.md.
#   (a) mediadex index, default settings, under /usr/bin/time -v (wall, max RSS)
#   (b) the same with --concurrency 1, --concurrency 2 and --threads 2 (one worker over two OpenMP threads): the CPU split between
#       decode workers and inference, with mediadex's own stage times
#   (c) the Node pipeline under /usr/bin/time -v (full-size decode, as human does; and with
#       NODE_VARIANTS=both also --sharp-resize: sharp shrinks to 1024 before TF.js)
#   (d) mediadex index again over the unchanged library (wall time)
# Needs build/mediadex (cmake --build build --target mediadex), ImageMagick, Node 20, npm.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-500}
NODE_VARIANTS=${2:-both}   # both | full
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "index_bench: N must be a positive integer, got '$N'" >&2; exit 2; }
[[ "$NODE_VARIANTS" == both || "$NODE_VARIANTS" == full ]] || {
  echo "index_bench: NODE_VARIANTS must be 'both' or 'full', got '$NODE_VARIANTS'" >&2; exit 2; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')
MEDIADEX=build/mediadex
MODEL=models/centernet.json
[ -x "$MEDIADEX" ] || { echo "index_bench: $MEDIADEX missing: cmake --build build --target mediadex" >&2; exit 1; }
[ -f "$MODEL" ] || { echo "index_bench: $MODEL missing: scripts/fetch-model.sh" >&2; exit 1; }
if [ ! -x /usr/bin/time ]; then
  echo "index_bench: installing GNU time" >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq time >/dev/null; else sudo apt-get install -y -qq time >/dev/null; fi
fi
[ -d bench/node-pipeline/node_modules ] || (cd bench/node-pipeline && npm ci --silent)

PHOTOS=../shared/testdata/photos
[ -d "$PHOTOS" ] || PHOTOS=samples
LIB=build/bench-data/index-lib-$N
echo "index_bench: library $LIB ($N JPEGs of 4000x3000, made once)" >&2
bench/make_large_jpegs.sh "$PHOTOS" "$LIB" "$N" >&2
have=$(find "$LIB" -maxdepth 1 -name '*.jpg' | wc -l)
[ "$have" -eq "$N" ] || { echo "index_bench: $LIB holds $have JPEGs, expected $N (remove it and rerun)" >&2; exit 1; }
lib_mb=$(du -sm "$LIB" | cut -f1)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/index_bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# Warm the page cache so every engine reads the library from memory, none pays for the first read.
cat "$LIB"/*.jpg >/dev/null

# timed NAME CMD...: runs CMD under /usr/bin/time -v; its stdout+stderr go to $TMP/NAME.log and
# the time report to $TMP/NAME.time. A non-zero exit (partial failure) is reported, not fatal.
timed() {
  local name=$1; shift
  echo "index_bench: $name: $*" >&2
  local rc=0
  /usr/bin/time -v -o "$TMP/$name.time" "$@" >"$TMP/$name.log" 2>&1 || rc=$?
  [ "$rc" -eq 0 ] || echo "index_bench: $name exited with $rc (see below)" >&2
  [ "$rc" -eq 0 ] || tail -5 "$TMP/$name.log" >&2
}
# wall seconds from GNU time's h:mm:ss or m:ss.ss
wall_s() {
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0;
    for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' "$TMP/$1.time"
}
rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$TMP/$1.time"; }
ips() { awk -v n="$N" -v s="$(wall_s "$1")" 'BEGIN { printf "%.2f", n / s }'; }
cpu_pct() { awk -F': ' '/Percent of CPU/ { print $2 }' "$TMP/$1.time"; }
stages() { sed -n 's/^stage time: //p' "$TMP/$1.log" | tail -1; }
md_failed() {
  "$MEDIADEX" status --json --catalog "$TMP/$1.db" | python3 -c "import json,sys; print(json.load(sys.stdin)['failed'])"
}

# (a) default settings, as the brief's headline figure; (d) the re-run over the unchanged library.
timed md_default "$MEDIADEX" index --quiet --catalog "$TMP/md_default.db" --model "$MODEL" "$LIB"
timed md_rerun "$MEDIADEX" index --quiet --catalog "$TMP/md_default.db" --model "$MODEL" "$LIB"
# (b) the CPU split: fewer decode workers, or one inference thread. Not --quiet: the summary's
# stage times are the point here.
timed md_c1 "$MEDIADEX" index --concurrency 1 --catalog "$TMP/md_c1.db" --model "$MODEL" "$LIB"
timed md_c2 "$MEDIADEX" index --concurrency 2 --catalog "$TMP/md_c2.db" --model "$MODEL" "$LIB"
timed md_t2 "$MEDIADEX" index --threads 2 --catalog "$TMP/md_t2.db" --model "$MODEL" "$LIB"
# (c) the Node pipeline.
timed node_full node bench/node-pipeline/index.mjs --model "$MODEL" --db "$TMP/node_full.db" "$LIB"
if [ "$NODE_VARIANTS" = both ]; then
  timed node_1024 node bench/node-pipeline/index.mjs --sharp-resize --model "$MODEL" --db "$TMP/node_1024.db" "$LIB"
fi
node_json() { grep '^{' "$TMP/$1.log" | tail -1; }
node_field() { node_json "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
mem_gib=$(awk '/MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)
echo
echo "### mediadex index vs the original app's pipeline in Node: $N JPEGs of 4000x3000 q90 ($lib_mb MB)"
echo
echo "| pipeline | images/s | peak RSS | wall s | CPU | failed |"
echo "|---|---|---|---|---|---|"
echo "| \`mediadex index\` (defaults: 3 decode workers, one single-threaded inference worker per core) | $(ips md_default) | $(rss_mb md_default) MB | $(wall_s md_default) | $(cpu_pct md_default) | $(md_failed md_default) |"
echo "| Node: sharp full-size decode + TF.js $(node_field node_full tfjs_version) wasm (SIMD $(node_field node_full simd)) + better-sqlite3, concurrency 3 | $(ips node_full) | $(rss_mb node_full) MB | $(wall_s node_full) | $(cpu_pct node_full) | $(node_field node_full failed) |"
if [ "$NODE_VARIANTS" = both ]; then
  echo "| Node, \`--sharp-resize\` (sharp shrinks to fit 1024 first) | $(ips node_1024) | $(rss_mb node_1024) MB | $(wall_s node_1024) | $(cpu_pct node_1024) | $(node_field node_1024 failed) |"
fi
echo "| \`mediadex index\` re-run, library unchanged (no inference) | - | $(rss_mb md_rerun) MB | $(wall_s md_rerun) | $(cpu_pct md_rerun) | - |"
echo
ratio=$(awk -v a="$(ips md_default)" -v b="$(ips node_full)" 'BEGIN { printf "%.2f", a / b }')
echo "mediadex / Node (full-size decode): **${ratio}x** images/s (target >= 3x); mediadex peak RSS $(rss_mb md_default) MB (target < 1024 MB); re-run $(wall_s md_rerun) s for $N files (target < 1 s per 10,000 files, includes process start and model load)."
echo "Node's own count, without its start-up: $(node_field node_full images_per_s) images/s full-size$( [ "$NODE_VARIANTS" = both ] && echo ", $(node_field node_1024 images_per_s) with --sharp-resize"); one SQLite transaction per file."
echo
echo "#### CPU split in mediadex (2 cores: decode workers vs inference threads)"
echo
echo "| settings | images/s | peak RSS | wall s | CPU | stage times (mediadex summary) |"
echo "|---|---|---|---|---|---|"
for v in md_c1:"--concurrency 1" md_c2:"--concurrency 2" md_t2:"--threads 2"; do
  name=${v%%:*}
  echo "| \`${v#*:}\` | $(ips "$name") | $(rss_mb "$name") MB | $(wall_s "$name") | $(cpu_pct "$name") | $(stages "$name") |"
done
echo
echo "$(date -u +%F), $(nproc) cores: $cpu, ${mem_gib} GiB RAM, load average before/after $load_before -> $(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/'), $(node --version), command: \`bench/index_bench.sh $N $NODE_VARIANTS\`"
