#!/usr/bin/env bash
# bench/serve/run.sh [BUILD_DIR] [N] [POSTGRES_URL]: a catalog of N (default 100,000) photo rows,
# 40 of them 12 MP JPEGs for first-time thumbnails, then `mediadex serve` and bench.mjs. With a
# postgresql:// URL (an existing database; its mediadex tables are emptied) the same rows are
# loaded there and the server reads that catalog instead of the SQLite file. Figures go to
# docs/performance.md by hand (with the machine and date).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
N=${2:-100000}
PG_URL=${3:-}
WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
python3 bench/serve/make_catalog.py "$WORK/big.db" "$N" --mediadex "$BUILD/mediadex" ${PG_URL:+--postgres "$PG_URL"}
# 12 MP JPEGs (4000x3000) made from a real photo, one copy per row so none is cached.
PHOTOS=../shared/testdata/photos; [ -d "$PHOTOS" ] || PHOTOS=samples
SRC=$(ls "$PHOTOS"/*.jpg | head -1)
mkdir -p "$WORK/big"
convert "$SRC" -resize 4000x3000! -quality 90 "$WORK/big/base.jpg"
IDS=""
for i in $(seq 1 40); do
  cp "$WORK/big/base.jpg" "$WORK/big/b$i.jpg"
  printf '%s' "$i" >> "$WORK/big/b$i.jpg"   # different bytes, same pixels
  ID=$((N + i))
  sqlite3 "$WORK/big.db" "INSERT INTO media (id, path, size, mtime_ns, content_hash, kind, width, height, first_seen, last_seen) VALUES ($ID, '$WORK/big/b$i.jpg', 1, 1, 'b$i', 'image', 4000, 3000, 0, 0)" 2>/dev/null ||
    python3 -c "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); db.execute(\"INSERT INTO media (id, path, size, mtime_ns, content_hash, kind, width, height, first_seen, last_seen) VALUES (?,?,1,1,?,'image',4000,3000,0,0)\", (int(sys.argv[2]), sys.argv[3], 'b'+sys.argv[4])); db.commit()" "$WORK/big.db" "$ID" "$WORK/big/b$i.jpg" "$i"
  if [ -n "$PG_URL" ]; then
    HEXPATH=$(printf '%s' "$WORK/big/b$i.jpg" | od -An -tx1 | tr -d ' \n')
    psql -q "$PG_URL" -c "INSERT INTO media (id, path, size, mtime_ns, content_hash, kind, width, height, first_seen, last_seen) VALUES ($ID, '\\x$HEXPATH', 1, 1, 'b$i', 'image', 4000, 3000, 0, 0)"
  fi
  IDS="$IDS${IDS:+,}$ID"
done
CATALOG=${PG_URL:-$WORK/big.db}
# A PostgreSQL catalog keeps its thumbnails beside the default catalog: in $WORK here.
XDG_DATA_HOME=$WORK "$BUILD/mediadex" serve --catalog "$CATALOG" --port 0 > "$WORK/out.txt" 2> "$WORK/err.txt" &
SERVER=$!
for _ in $(seq 1 100); do grep -q listening "$WORK/out.txt" 2>/dev/null && break; sleep 0.1; done
BASE=$(sed -n 's/^listening on //p' "$WORK/out.txt")
echo "server $BASE over $N rows (${PG_URL:+PostgreSQL }catalog); $(nproc) cores"
node bench/serve/bench.mjs "$BASE" "$IDS"
