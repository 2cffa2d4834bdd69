#!/usr/bin/env bash
# `mediadex worker --path-map FROM=TO` (label pg): the library is enqueued where one machine
# mounts it (FROM), then moved to where the worker's machine sees it (TO). The worker reads each
# file at TO, and its results stay on the catalog's paths: no new media rows, every file done
# exactly once, the export (by catalog path) equal to one SQLite `index` of the library at FROM.
# Without the map, the same worker finds nothing to read and fails the files (the map matters).
#
#   queue_path_map_e2e.sh MEDIADEX_BINARY PHOTO_DIR...     (MEDIADEX_TEST_PG_URL[_FILE] set)
set -euo pipefail
TEST_NAME=queue_path_map_e2e
. "$(dirname "$0")/test_lib.sh"
bin=$1
shift
[ -x "$bin" ] || fail "$bin: no mediadex binary"
pg_server_url
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; drop_dbs' EXIT
from="$tmp/mnt/photos" to="$tmp/Volumes/photos"
make_library "$from" 1 "$@"
files=$(find "$from" -type f | wc -l)
reference_export "$from" "$tmp/reference.json"
url=$(fresh_db mdx_queue_path_map)
"$bin" index --enqueue "$from" --catalog "$url" --device cpu >"$tmp/enqueue.txt" 2>&1 || fail "enqueue: $(cat "$tmp/enqueue.txt")"
grep -q "enqueued $files files" "$tmp/enqueue.txt" || fail "enqueue did not queue all $files files: $(cat "$tmp/enqueue.txt")"
mkdir -p "$(dirname "$to")"
mv "$from" "$to"

worker=(worker --device cpu --concurrency 1 --threads 1 --batch 4 --until-empty --poll-seconds 0.5)
"$bin" "${worker[@]}" --catalog "$url" --path-map "$tmp/mnt/photos/=$to" >"$tmp/worker.log" 2>&1 || fail "worker: $(tail -5 "$tmp/worker.log")"
exactly_once "$url" "$files"
[ "$(sql "$url" "SELECT COUNT(*) FROM media")" = "$files" ] || fail "media rows: $(sql "$url" "SELECT COUNT(*) FROM media") (the worker added rows for its local paths?)"
[ "$(sql "$url" "SELECT COUNT(*) FROM media WHERE position(convert_to('$to', 'UTF8') in path) = 1")" = 0 ] ||
  fail "a catalog path was rewritten to the worker's local path"
"$bin" export --format json --catalog "$url" >"$tmp/mapped.json" || fail "export"
same_exports "$tmp/reference.json" "$tmp/mapped.json" || fail "the mapped worker's results differ from one SQLite index at FROM"

# The same queue again, without the map: the files are not at the catalog's paths here.
url2=$(fresh_db mdx_queue_no_map)
mv "$to" "$from"
"$bin" index --enqueue "$from" --catalog "$url2" --device cpu >/dev/null 2>&1 || fail "second enqueue"
mv "$from" "$to"
"$bin" "${worker[@]}" --catalog "$url2" --max-attempts 1 >"$tmp/nomap.log" 2>&1 || fail "worker without map: $(tail -5 "$tmp/nomap.log")"
[ "$(sql "$url2" "SELECT COUNT(*) FROM queue WHERE state = 'failed'")" = "$files" ] ||
  fail "without --path-map the files should fail (not found): $(sql "$url2" "SELECT state, COUNT(*) FROM queue GROUP BY 1")"
echo "queue_path_map_e2e: OK ($files files read at $to, results under $from)"
