#!/usr/bin/env bash
# The lease queue's edges (label pg).
#  1. A poison file (a truncated JPEG, which fails decoding every time) is tried --max-attempts
#     times, then ends failed with its last error; the rest finish.
#  2. Against an empty database: two `index --enqueue` runs at once and three workers starting
#     at once (the migrations race); SIGTERM then stops the workers with exit 0. Every file is
#     done exactly once and the detections equal one SQLite `index`.
#
#   queue_poison_race_e2e.sh MEDIADEX_BINARY PHOTO_DIR...   (MEDIADEX_TEST_PG_URL[_FILE] set)
set -euo pipefail
TEST_NAME=queue_poison_race_e2e
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
common=(--device cpu --concurrency 1 --threads 1 --lease-seconds 5 --poll-seconds 0.3)

# 1. The poison file.
make_library "$tmp/lib" 1 "$@"
good=$(find "$tmp/lib" -type f | wc -l)
first=$(find "$tmp/lib" -name '*.jpg' | sort | head -1)
head -c 3000 "$first" >"$tmp/lib/poison.jpg"
url=$(fresh_db mdx_poison)
"$bin" index --enqueue "$tmp/lib" --catalog "$url" --device cpu --quiet || fail "enqueue"
"$bin" worker --catalog "$url" "${common[@]}" --batch 4 --max-attempts 3 --until-empty >"$tmp/poison.log" 2>&1 ||
  fail "worker: $(tail -5 "$tmp/poison.log")"
states=$(sql "$url" "SELECT string_agg(state || '=' || n, ',' ORDER BY state) FROM (SELECT state, COUNT(*) n FROM queue GROUP BY 1) s")
[ "$states" = "done=$good,failed=1" ] || fail "queue states: $states (wanted done=$good,failed=1)"
row=$(sql "$url" "SELECT q.attempts || '|' || convert_from(a.error, 'UTF8') FROM queue q JOIN media m ON m.id = q.media_id JOIN analyses a ON a.media_id = q.media_id WHERE q.state = 'failed' AND convert_from(m.path, 'UTF8') LIKE '%/poison.jpg'")
case "$row" in "3|"*JPEG*) ;; *) fail "the poison file's queue row and analysis: '$row' (3 attempts and a JPEG error wanted)" ;; esac
"$bin" errors --catalog "$url" | grep -q "poison.jpg" || fail "\`errors\` does not list the poison file"
[ "$(grep -c "to retry" "$tmp/poison.log")" -ge 3 ] || fail "the worker log shows fewer than 3 leases"
echo "$TEST_NAME: the poison file failed after 3 attempts (${row#*|}); $good others done"
rm "$tmp/lib/poison.jpg"

# 2. Two enqueues and three workers at once on an empty database.
url=$(fresh_db mdx_race)
reference_export "$tmp/lib" "$tmp/reference.json"
for i in 1 2; do "$bin" index --enqueue "$tmp/lib" --catalog "$url" --device cpu >"$tmp/enqueue$i.txt" 2>&1 & pids+=($!); done
for i in 0 1 2; do "$bin" worker --catalog "$url" "${common[@]}" --batch 3 >"$tmp/worker$i.log" 2>&1 & pids+=($!); done
for i in 0 1; do wait "${pids[$i]}" || fail "enqueue $((i + 1)) failed: $(cat "$tmp/enqueue$((i + 1)).txt")"; done
newly=$(sed -n 's/.*(\([0-9]*\) newly available).*/\1/p' "$tmp/enqueue1.txt" "$tmp/enqueue2.txt" | awk "{ s += \$1 } END { print s }")
[ "$newly" = "$good" ] || fail "the two enqueues made $newly items available for $good files: $(cat "$tmp/enqueue"*.txt)"
[ "$(sql "$url" "SELECT COUNT(*) || ':' || MAX(version) FROM mediadex_schema")" = "1:$(sql "$url" "SELECT MAX(version) FROM mediadex_schema")" ] ||
  fail "mediadex_schema after the race: $(sql "$url" "TABLE mediadex_schema")"
wait_sql "$url" "SELECT COUNT(*) FROM queue WHERE state = 'done'" "$good" 120 "the workers finishing the queue"
for i in 2 3 4; do kill -TERM "${pids[$i]}"; done
for i in 2 3 4; do
  wait "${pids[$i]}" || fail "worker $((i - 2)) exited $? after SIGTERM: $(tail -5 "$tmp/worker$((i - 2)).log")"
  grep -q "(stopped by a signal)" "$tmp/worker$((i - 2)).log" || fail "worker $((i - 2)) did not say it stopped: $(tail -3 "$tmp/worker$((i - 2)).log")"
done
pids=()
[ "$(sql "$url" "SELECT COUNT(*) FROM queue_workers WHERE stopped_at IS NOT NULL")" = 3 ] || fail "SIGTERM did not mark the workers stopped"
exactly_once "$url" "$good"
"$bin" export --format json --catalog "$url" >"$tmp/queue.json" || fail "export"
same_exports "$tmp/reference.json" "$tmp/queue.json" || fail "detections differ from one SQLite index"
echo "$TEST_NAME: OK"
