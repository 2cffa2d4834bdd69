#!/usr/bin/env bash
# A worker that loses its lease mid-batch (label pg). MODE pause: it is stopped with SIGSTOP past
# its lease, then continued. MODE netns: it runs in its own network namespace (ip netns + a veth
# pair, 10.x addresses on this machine only) against the server's veth address, and its link is
# cut mid-batch until its lease expires, then restored. Either way: another worker does its
# batch, nothing is committed twice, the first worker's late results are refused (it says so),
# and the detections equal one SQLite `index` of the same files.
#
#   queue_lease_loss_e2e.sh pause|netns MEDIADEX_BINARY PHOTO_DIR...   (MEDIADEX_TEST_PG_URL[_FILE] set)
set -euo pipefail
mode=$1 bin=$2
shift 2
TEST_NAME="queue_lease_loss_e2e ($mode)"
. "$(dirname "$0")/test_lib.sh"
[ -x "$bin" ] || fail "$bin: no mediadex binary"
pg_server_url
tmp=$(mktemp -d)
pids=()
ns="" veth="" own_server=""
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill -9 "$p" 2>/dev/null || true; done
  drop_dbs
  [ -n "$own_server" ] && "$(dirname "$0")/pg_fixture.sh" stop "$own_server" >/dev/null 2>&1 || true
  [ -n "$veth" ] && ip link del "$veth" 2>/dev/null || true
  [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
make_library "$tmp/lib" 2 "$@"
files=$(find "$tmp/lib" -type f | wc -l)

first=("$bin")  # how the first worker runs
if [ "$mode" = netns ]; then
  command -v ip >/dev/null || fail "the ip command is missing (Debian's iproute2: scripts/setup.sh --tests)"
  ns="mdxq$$" veth="mdxh$$"
  net="10.213.$(($$ % 250))"
  ip netns add "$ns" 2>"$tmp/netns.err" ||
    fail "cannot create a network namespace (ip netns add: $(cat "$tmp/netns.err")); this test needs root or CAP_SYS_ADMIN and CAP_NET_ADMIN"
  ip link add "$veth" type veth peer name "mdxn$$" || fail "ip link add veth pair"
  ip link set "mdxn$$" netns "$ns"
  ip addr add "$net.1/30" dev "$veth"
  ip link set "$veth" up
  ip netns exec "$ns" ip addr add "$net.2/30" dev "mdxn$$"
  ip netns exec "$ns" ip link set "mdxn$$" up
  ip netns exec "$ns" ip link set lo up
  # A server of this test's own that also listens on the veth's host end and trusts the namespace.
  own_server="$tmp/pg"
  PG_FIXTURE_LISTEN="$net.1" PG_FIXTURE_TRUST_NET="$net.0/30" "$(dirname "$0")/pg_fixture.sh" start "$own_server" >/dev/null ||
    fail "the test's own server (listening on $net.1) did not start"
  server=$(cat "$own_server/url")
  port=$(cat "$own_server/port")
  first=(ip netns exec "$ns" "$bin")
fi
url=$(fresh_db mdx_lease_$mode)
first_url=$url
[ "$mode" = netns ] && first_url="postgresql://postgres@$net.1:$port/${url##*/}"
if [ "$mode" = netns ]; then
  ip netns exec "$ns" psql -tAq "$first_url" -c "SELECT 1" >/dev/null 2>"$tmp/ping.err" ||
    fail "the namespace cannot reach the server at $net.1:$port: $(cat "$tmp/ping.err")"
fi

reference_export "$tmp/lib" "$tmp/reference.json"
"$bin" index --enqueue "$tmp/lib" --catalog "$url" --device cpu --quiet || fail "enqueue"

common=(--device cpu --concurrency 1 --threads 1 --lease-seconds 2 --max-attempts 10 --until-empty --poll-seconds 0.3)
"${first[@]}" worker --catalog "$first_url" "${common[@]}" --batch 12 >"$tmp/first.log" 2>&1 &
pids+=($!)
first_pid=$!
# The moment it holds a lease (its batch is in flight): cut it off.
for _ in $(seq 600); do
  id=$(sql "$url" "SELECT COALESCE(MAX(id)::text, '') FROM queue_workers WHERE stopped_at IS NULL")
  [ -n "$id" ] && [ "$(sql "$url" "SELECT COUNT(*) FROM queue WHERE owner = $id AND state = 'leased'")" -gt 0 ] && break
  sleep 0.05
done
[ -n "$id" ] || fail "the first worker never registered: $(cat "$tmp/first.log")"
held=$(sql "$url" "SELECT string_agg(media_id::text, ',') FROM queue WHERE owner = $id AND state = 'leased'")
[ -n "$held" ] || fail "the first worker never held a lease: $(cat "$tmp/first.log")"
if [ "$mode" = pause ]; then kill -STOP "$first_pid"; else ip link set "$veth" down; fi
echo "$TEST_NAME: worker $id cut off holding media $held"

# Another worker does everything, the first worker's batch once its lease expired.
"$bin" worker --catalog "$url" "${common[@]}" --batch 4 >"$tmp/second.log" 2>&1 || fail "second worker: $(tail -5 "$tmp/second.log")"
second=$(sql "$url" "SELECT MAX(id) FROM queue_workers")
by_second=$(sql "$url" "SELECT COUNT(*) FROM analyses a JOIN runs r ON r.id = a.run_id WHERE a.media_id IN ($held) AND r.settings LIKE 'worker=$second;%'")
[ "$by_second" = "$(tr ',' '\n' <<<"$held" | wc -l)" ] || fail "the second worker did $by_second of the first's files ($held)"

# Back: the first worker's results are refused (or its heartbeat finds the lease gone first),
# and it ends cleanly.
if [ "$mode" = pause ]; then kill -CONT "$first_pid"; else ip link set "$veth" up; fi
for _ in $(seq 900); do kill -0 "$first_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$first_pid" 2>/dev/null && fail "the first worker did not finish within 90 s after it came back: $(tail -5 "$tmp/first.log")"
wait "$first_pid" || fail "the first worker exited $?: $(tail -5 "$tmp/first.log")"
pids=()
if [ "$mode" = netns ]; then
  grep -q "results refused: the lease expired and another worker took those files" "$tmp/first.log" ||
    fail "the cut-off worker's late finish was not refused: $(cat "$tmp/first.log")"
else
  grep -Eq "results refused: the lease expired|is gone \(it expired and another worker took its files\)" "$tmp/first.log" ||
    fail "the paused worker neither had its results refused nor dropped its batch: $(cat "$tmp/first.log")"
fi
grep -E "refused|is gone" "$tmp/first.log" | head -2

exactly_once "$url" "$files"
"$bin" export --format json --catalog "$url" >"$tmp/queue.json" || fail "export"
same_exports "$tmp/reference.json" "$tmp/queue.json" || fail "detections differ from one SQLite index"
echo "$TEST_NAME: OK"
