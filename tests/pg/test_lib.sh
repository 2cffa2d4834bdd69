# Shared by the shell tests in tests/pg (sourced): the fixture's server, a fresh database per
# test, a library of real photos, and the comparison of two catalogs' exports.
fail() { echo "${TEST_NAME:-test}: FAIL: $*" >&2; exit 1; }

# Sets $server (the fixture's URL) or fails naming what is missing.
pg_server_url() {
  command -v psql >/dev/null || fail "psql is missing (Debian's postgresql-client: scripts/setup.sh --tests)"
  server=${MEDIADEX_TEST_PG_URL:-}
  if [ -z "$server" ]; then
    [ -n "${MEDIADEX_TEST_PG_URL_FILE:-}" ] && [ -s "$MEDIADEX_TEST_PG_URL_FILE" ] ||
      fail "no PostgreSQL test server: run through \`ctest -L pg\` (fixture pg_server) or set MEDIADEX_TEST_PG_URL"
    server=$(head -1 "$MEDIADEX_TEST_PG_URL_FILE")
  fi
}

# fresh_db NAME: creates database NAME_<pid> and prints its URL; dropped by drop_dbs.
created_dbs=()
fresh_db() {
  local db="${1}_$$"
  psql -q "$server" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  psql -q "$server" -c "CREATE DATABASE $db" >/dev/null || fail "CREATE DATABASE $db"
  created_dbs+=("$db")
  echo "${server%/*}/$db"
}
drop_dbs() {
  local db
  for db in "${created_dbs[@]}"; do psql -q "$server" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
}

# make_library DIR COPIES PHOTO_DIR...: hard links (copies across file systems) of every photo,
# COPIES times, in DIR/setC/K/ (K: the PHOTO_DIR's position, so equal names never collide).
make_library() {
  local dir=$1 copies=$2 c k p
  shift 2
  for c in $(seq "$copies"); do
    k=0
    for f in "$@"; do
      k=$((k + 1))
      mkdir -p "$dir/set$c/$k"
      for p in "$f"/*.jpg "$f"/*.png; do
        [ -f "$p" ] || continue
        ln "$p" "$dir/set$c/$k/" 2>/dev/null || cp "$p" "$dir/set$c/$k/"
      done
    done
  done
}

# same_exports A.json B.json: the same files and the same detections (as a multiset).
same_exports() {
  python3 - "$1" "$2" <<'PY'
import json, sys
def load(path):
    text = open(path).read()
    try:
        doc = json.loads(text)
    except ValueError:
        doc = [json.loads(line) for line in text.splitlines() if line.strip()]
    files = doc if isinstance(doc, list) else doc.get("files", doc.get("media", []))
    out = []
    for f in files:
        for d in f.get("detections", []):
            out.append((f["file"], d["label"], d.get("class"), d["score"], tuple(d["box"]), d.get("time")))
    return sorted(out, key=repr), sorted(f["file"] for f in files)
a, pa = load(sys.argv[1]); b, pb = load(sys.argv[2])
if pa != pb:
    print("files differ:", sorted(set(pa) ^ set(pb))[:20], len(pa), len(pb)); sys.exit(1)
if a != b:
    sa, sb = set(a), set(b)
    print("detections differ:", len(a), len(b), "only in first:", sorted(sa - sb)[:5], "only in second:", sorted(sb - sa)[:5]); sys.exit(1)
if not a: print("no detections at all: the comparison proves nothing"); sys.exit(1)
print(f"{len(pa)} files, {len(a)} detections, equal")
PY
}

# sql URL QUERY: one value.
sql() { psql -tAq "$1" -c "$2"; }

# wait_sql URL QUERY EXPECTED SECONDS WHAT: polls until QUERY prints EXPECTED, else fails.
wait_sql() {
  local url=$1 query=$2 want=$3 secs=$4 what=$5 i got
  for i in $(seq $((secs * 10))); do
    got=$(sql "$url" "$query" 2>/dev/null || true)
    [ "$got" = "$want" ] && return 0
    sleep 0.1
  done
  fail "$what: after ${secs} s: '$got', wanted '$want'"
}

# exactly_once URL FILES: every present file's queue item is done, its analysis current, and the
# runs' live counts (advanced by each committed result, in the same transaction) sum to FILES:
# each file was committed exactly once, however many workers died or lost leases.
exactly_once() {
  local url=$1 files=$2 states committed
  states=$(sql "$url" "SELECT string_agg(state || '=' || n, ',' ORDER BY state) FROM (SELECT state, COUNT(*) n FROM queue GROUP BY 1) s")
  [ "$states" = "done=$files" ] || fail "queue states: $states (wanted done=$files)"
  committed=$(sql "$url" "SELECT SUM(done + failed) FROM runs")
  [ "$committed" = "$files" ] || fail "results committed $committed times for $files files (exactly once each wanted)"
  [ "$(sql "$url" "SELECT COUNT(*) FROM analyses WHERE status = 'done'")" = "$files" ] || fail "analyses not all done"
}

# reference_export LIBRARY OUT.json: one single-process SQLite `index` of LIBRARY, exported.
reference_export() {
  "$bin" index "$1" --catalog "$tmp/reference.db" --device cpu --concurrency 2 --quiet || fail "reference SQLite index"
  "$bin" export --format json --catalog "$tmp/reference.db" >"$2" || fail "reference export"
}

# worker_pid_of URL PID: the queue_workers id of the worker process PID ("" until registered).
worker_id_of() { sql "$1" "SELECT COALESCE(MAX(id)::text, '') FROM queue_workers WHERE pid = $2"; }
