#!/usr/bin/env bash
# `index --shard I/N` on SQLite and PostgreSQL (label pg): N shards run one after another over one
# catalog equal one unsharded run (the same files done, none gone, the same detections); a file
# deleted from the library is found gone by exactly one shard, its own; `--shard auto` reads
# JOB_COMPLETION_INDEX (+ --shards) and SLURM_ARRAY_TASK_ID/COUNT and says which it used.
#
#   shard_e2e.sh MEDIADEX_BINARY PHOTO_DIR...        (MEDIADEX_TEST_PG_URL[_FILE] set)
set -euo pipefail
TEST_NAME=shard_e2e
. "$(dirname "$0")/test_lib.sh"
bin=$1
shift
[ -x "$bin" ] || fail "$bin: no mediadex binary"
pg_server_url
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; drop_dbs' EXIT
make_library "$tmp/lib" 2 "$@"
common=(--device cpu --concurrency 2 --quiet)
N=3

gone_of() { sed -n 's/.* \([0-9]*\) gone,.*/\1/p' "$1"; }

for backend in sqlite pg; do
  if [ $backend = sqlite ]; then one="$tmp/one.db" sharded="$tmp/sharded.db"
  else one=$(fresh_db mdx_shard_one) sharded=$(fresh_db mdx_shard_n); fi
  "$bin" index "$tmp/lib" --catalog "$one" "${common[@]}" || fail "$backend: unsharded index"
  total=0
  for i in $(seq 0 $((N - 1))); do
    "$bin" index --shard "$i/$N" "$tmp/lib" --catalog "$sharded" --device cpu --concurrency 2 >"$tmp/s$i.txt" 2>&1 ||
      fail "$backend: shard $i/$N: $(cat "$tmp/s$i.txt")"
    grep -q "shard $i/$N of the library, from --shard $i/$N" "$tmp/s$i.txt" || fail "$backend: shard $i does not say which: $(cat "$tmp/s$i.txt")"
    [ "$(gone_of "$tmp/s$i.txt")" = 0 ] || fail "$backend: shard $i marked files of other shards gone: $(cat "$tmp/s$i.txt")"
    n=$(sed -n 's/^scanned \([0-9]*\) files.*/\1/p' "$tmp/s$i.txt")
    total=$((total + n))
  done
  all=$(find "$tmp/lib" -type f | wc -l)
  [ "$total" = "$all" ] || fail "$backend: the shards scanned $total files, the library has $all"
  "$bin" export --format json --catalog "$one" >"$tmp/one.json" || fail "$backend: export"
  "$bin" export --format json --catalog "$sharded" >"$tmp/sharded.json" || fail "$backend: export"
  same_exports "$tmp/one.json" "$tmp/sharded.json" || fail "$backend: $N shards differ from one run"
  "$bin" status --json --catalog "$sharded" >"$tmp/status.json"
  python3 -c "
import json,sys; s=json.load(open('$tmp/status.json'))
sys.exit(0 if s['gone']==0 and s['pending']==0 and s['done']==$all else 1)" ||
    fail "$backend: after $N shards: $(cat "$tmp/status.json")"

  # A deleted file is gone for its own shard only: exactly one of the N runs finds it gone.
  victim=$(find "$tmp/lib" -type f | sort | head -1)
  mv "$victim" "$tmp/aside"
  finders=0
  for i in $(seq 0 $((N - 1))); do
    "$bin" index --shard "$i/$N" "$tmp/lib" --catalog "$sharded" --device cpu --concurrency 2 >"$tmp/g$i.txt" 2>&1 ||
      fail "$backend: shard $i again: $(cat "$tmp/g$i.txt")"
    g=$(gone_of "$tmp/g$i.txt")
    [ "$g" = 0 ] || [ "$g" = 1 ] || fail "$backend: shard $i found $g files gone: $(cat "$tmp/g$i.txt")"
    finders=$((finders + g))
  done
  [ "$finders" = 1 ] || fail "$backend: $finders shards found the deleted file gone (must be exactly its own)"
  mv "$tmp/aside" "$victim"
  echo "shard_e2e: $backend: $N shards = one run ($all files); a deleted file gone in its shard only"
done

# --shard auto, from the schedulers' variables.
db="$tmp/auto.db"
out=$(JOB_COMPLETION_INDEX=1 "$bin" index --shard auto --shards $N "$tmp/lib" --catalog "$db" --device cpu --concurrency 2 2>&1) ||
  fail "JOB_COMPLETION_INDEX: $out"
grep -q "shard 1/$N of the library, from JOB_COMPLETION_INDEX=1" <<<"$out" || fail "JOB_COMPLETION_INDEX not named: $out"
n1=$(sed -n 's/^scanned \([0-9]*\) files.*/\1/p' <<<"$out")
[ "$n1" = "$(sed -n 's/^scanned \([0-9]*\) files.*/\1/p' "$tmp/s1.txt")" ] || fail "JOB_COMPLETION_INDEX=1 scanned $n1, --shard 1/$N another count"
out=$(SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=$N "$bin" index --shard "$tmp/lib" --catalog "$db" --device cpu --concurrency 2 2>&1) &&
  fail "--shard followed by a path took the path as its value and succeeded: $out"
out=$(SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_COUNT=$N "$bin" index "$tmp/lib" --shard --catalog "$db" --device cpu --concurrency 2 2>&1) ||
  fail "SLURM: $out"
grep -q "shard 2/$N of the library, from SLURM_ARRAY_TASK_ID=2 of SLURM_ARRAY_TASK_COUNT=$N" <<<"$out" || fail "SLURM not named: $out"
out=$(JOB_COMPLETION_INDEX=0 "$bin" index --shard auto "$tmp/lib" --catalog "$db" --device cpu 2>&1) && fail "no --shards succeeded: $out"
grep -q "add --shards N" <<<"$out" || fail "JOB_COMPLETION_INDEX without --shards: unclear error: $out"
out=$(env -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID "$bin" index --shard auto "$tmp/lib" --catalog "$db" --device cpu 2>&1) &&
  fail "--shard auto with no scheduler succeeded: $out"
grep -q "neither JOB_COMPLETION_INDEX" <<<"$out" || fail "--shard auto without variables: unclear error: $out"
out=$("$bin" index --shard 3/3 "$tmp/lib" --catalog "$db" --device cpu 2>&1) && fail "--shard 3/3 accepted: $out"
echo "shard_e2e: OK"
