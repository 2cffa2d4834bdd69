#!/usr/bin/env bash
# The lease queue under kill -9 (label pg): one `index --enqueue` and 3 workers on one
# PostgreSQL catalog; workers are killed with kill -9 at random moments and restarted. At the
# end every file is done exactly once (queue, analyses and the runs' commit counts agree) and
# the detections equal one single-process SQLite `index` of the same files (as a multiset).
#
#   queue_kill_e2e.sh MEDIADEX_BINARY PHOTO_DIR...     (MEDIADEX_TEST_PG_URL[_FILE] set)
set -euo pipefail
TEST_NAME=queue_kill_e2e
. "$(dirname "$0")/test_lib.sh"
bin=$1
shift
[ -x "$bin" ] || fail "$bin: no mediadex binary"
pg_server_url
tmp=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
  drop_dbs
}
trap cleanup EXIT
make_library "$tmp/lib" "${QUEUE_KILL_COPIES:-8}" "$@"
files=$(find "$tmp/lib" -type f | wc -l)
url=$(fresh_db mdx_queue_kill)

reference_export "$tmp/lib" "$tmp/reference.json"
"$bin" index --enqueue "$tmp/lib" --catalog "$url" --device cpu >"$tmp/enqueue.txt" 2>&1 || fail "enqueue: $(cat "$tmp/enqueue.txt")"
grep -q "enqueued $files files" "$tmp/enqueue.txt" || fail "enqueue did not queue all $files files: $(cat "$tmp/enqueue.txt")"

# Short leases and small batches: a killed worker's files come back within 2 s. The attempts
# limit is high: a file whose worker is killed under it thrice must not end failed here.
worker=(worker --catalog "$url" --device cpu --concurrency 1 --threads 1 --batch 4 --lease-seconds 2
        --max-attempts 50 --until-empty --poll-seconds 0.5)
start_worker() { "$bin" "${worker[@]}" >>"$tmp/worker$1.log" 2>&1 & pids[$1]=$!; }
for i in 0 1 2; do start_worker $i; done

kills=0
RANDOM=$$
while [ $kills -lt "${QUEUE_KILLS:-6}" ]; do
  sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 1 + (r % 200) / 100 }')"
  i=$((RANDOM % 3))
  if kill -0 "${pids[$i]}" 2>/dev/null; then
    kill -9 "${pids[$i]}"
    wait "${pids[$i]}" 2>/dev/null || true
    kills=$((kills + 1))
    echo "queue_kill_e2e: kill -9 worker $i (kill $kills) at $(sql "$url" "SELECT COUNT(*) FROM queue WHERE state = 'done'")/$files done"
    start_worker $i
  fi
  [ "$(sql "$url" "SELECT COUNT(*) FROM queue WHERE state = 'done'")" = "$files" ] && break
done
for i in 0 1 2; do
  wait "${pids[$i]}" || fail "worker $i exited $?: $(tail -5 "$tmp/worker$i.log")"
done
pids=()
echo "queue_kill_e2e: $kills workers killed with kill -9 and restarted"

exactly_once "$url" "$files"
"$bin" export --format json --catalog "$url" >"$tmp/queue.json" || fail "export"
same_exports "$tmp/reference.json" "$tmp/queue.json" || fail "the workers' detections differ from one SQLite index"
"$bin" status --catalog "$url" >"$tmp/status.txt" || fail "status"
grep -q "queue    0 available, 0 leased, $files done, 0 failed" "$tmp/status.txt" || fail "status: $(cat "$tmp/status.txt")"
grep -q "^worker .* last heartbeat .* files/s" "$tmp/status.txt" || fail "status shows no workers: $(cat "$tmp/status.txt")"
echo "queue_kill_e2e: OK ($files files, each committed once)"
