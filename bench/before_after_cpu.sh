#!/usr/bin/env bash
# bench/before_after_cpu.sh REF_DIR [N]: `mediadex index` on this machine's CPU, this tree's
# build/ against another tree's (REF_DIR, e.g. `mkdir .ref && git archive COMMIT | tar -x -C .ref`;
# built into REF_DIR/build here if missing), over N (default 60) 4000x3000 JPEGs
# (bench/make_large_jpegs.sh), alternately (after, before, after, before).
set -euo pipefail
cd "$(dirname "$0")/.."
REF=${1:?usage: before_after_cpu.sh REF_DIR [N]}
N=${2:-60}
LIB=/tmp/mediadex-cpu-ab-$N
[ -x "$REF/build/mediadex" ] || {
  [ -e "$REF/models" ] || ln -s "$PWD/models" "$REF/models"
  cmake -S "$REF" -B "$REF/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMEDIADEX_BUILD_TESTS=OFF -DMEDIADEX_BUILD_BENCH=OFF >/dev/null
  cmake --build "$REF/build" --parallel --target mediadex
}
PHOTOS=samples
[ -d ../shared/testdata/photos ] && PHOTOS=../shared/testdata/photos
bench/make_large_jpegs.sh "$PHOTOS" "$LIB" "$N" >/dev/null
for round in 1 2; do
  for side in after before; do
    bin=build/mediadex
    [ $side = before ] && bin=$REF/build/mediadex
    rm -f /tmp/cpu-ab.db*
    line=$("$bin" index --device cpu --catalog /tmp/cpu-ab.db "$LIB" 2>/dev/null | grep '^time')
    printf '%-7s %s  %s\n' "$side-$round" "$line" \
      "$(python3 -c "import sqlite3; print('%d detections' % sqlite3.connect('/tmp/cpu-ab.db').execute('SELECT count(*) FROM detections').fetchone())")"
  done
done
