#!/usr/bin/env bash
# bench/gpu/before_after.sh REF_DIR [N]: `mediadex index --decode auto` end to end, this tree's
# build against another tree's (REF_DIR: an earlier commit, e.g. made here with
# `mkdir .ref && git archive COMMIT | tar -x -C .ref`), on one library of N (default 2000)
# 4000x3000 JPEGs, alternately (after, before, after, before) so that both see the same
# machine; each run's catalog detections are compared with the first's. Builds what is missing
# (scripts/gpu-build.sh --no-tests in each tree). Writes logs to ${OUT:-/tmp/mediadex-ab}.
set -uo pipefail
cd "$(dirname "$0")/../.."
REF=${1:?usage: before_after.sh REF_DIR [N]}
N=${2:-2000}
RESULTS=${OUT:-/tmp/mediadex-ab}
mkdir -p "$RESULTS"
PHOTOS=samples
[ -d ../shared/testdata/photos ] && PHOTOS=../shared/testdata/photos
[ -d .deps/photos ] && PHOTOS=.deps/photos
# The other tree uses this one's dependency bundle and model.
for shared in .deps models; do [ -e "$REF/$shared" ] || ln -s "$PWD/$shared" "$REF/$shared"; done
for tree in . "$REF"; do
  [ -x "$tree/build-cuda/mediadex" ] && continue
  echo "== building $tree"
  log="$RESULTS/build-$(basename "$(realpath "$tree")").txt"
  (cd "$tree" && scripts/gpu-build.sh --no-tests > "$log" 2>&1)  # its smoke runs may fail where samples/ is not copied
  [ -x "$tree/build-cuda/mediadex" ] || { tail -40 "$log"; exit 1; }
done
[ -d .deps/root ] && export LD_LIBRARY_PATH=$PWD/.deps/root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
LIB=/tmp/mediadex-lib-$N
[ -d "$LIB" ] || python3 bench/gpu/make_library.py "$PHOTOS" "$LIB" "$N"
echo "library: $N files, mean $(du -sb "$LIB" | awk -v n="$N" '{ printf "%.2f MB", $1 / n / 1e6 }')"

run() {  # NAME TREE
  rm -f /tmp/ab.db*
  local start=$(date +%s.%N)
  "$2/build-cuda/mediadex" -v index --device cuda:0 --decode auto --batch-size 64 --catalog /tmp/ab.db "$LIB" \
    > "$RESULTS/index-$1.txt" 2>&1
  local wall=$(python3 -c "import time; print(round(time.time() - $start, 2))")
  local rate=$(sed -n 's/^time .* s, \([0-9.]*\) images\/s.*/\1/p' "$RESULTS/index-$1.txt")
  local found=$(python3 -c "import sqlite3; print('%d detections, scores %.2f' % sqlite3.connect('/tmp/ab.db').execute('SELECT count(*), coalesce(sum(score), 0) FROM detections').fetchone())")
  grep -q "^analysed .* 0 failed" "$RESULTS/index-$1.txt" || echo "!! $1: files failed or no summary"
  printf '%-10s %8s images/s   wall %6s s   %s\n' "$1" "${rate:-?}" "$wall" "$found" | tee -a "$RESULTS/summary.txt"
}
echo "== end to end, --decode auto, one GPU"
for round in 1 2; do
  run "after-$round" .
  run "before-$round" "$REF"
done
