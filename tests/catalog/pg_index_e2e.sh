#!/usr/bin/env bash
# End to end on PostgreSQL (label pg): `index` the sample photos into a fresh PostgreSQL database
# and into an SQLite file, then `export --format json` both: the same files with the same
# detections (as a multiset). search, status and errors must work unchanged on the URL, and a
# second `index` while one holds the catalog is refused naming the first. First, 8 processes
# race the migrations of an empty database.
#
#   pg_index_e2e.sh MEDIADEX_BINARY SAMPLES_DIR MODEL_JSON     (MEDIADEX_TEST_PG_URL[_FILE] set)
set -euo pipefail
bin=$1 samples=$2 model=$3
fail() { echo "pg_index_e2e: FAIL: $*" >&2; exit 1; }

server=${MEDIADEX_TEST_PG_URL:-}
if [ -z "$server" ]; then
  [ -n "${MEDIADEX_TEST_PG_URL_FILE:-}" ] && [ -s "$MEDIADEX_TEST_PG_URL_FILE" ] ||
    fail "no PostgreSQL test server: run through \`ctest -L pg\` (fixture pg_server) or set MEDIADEX_TEST_PG_URL"
  server=$(head -1 "$MEDIADEX_TEST_PG_URL_FILE")
fi
[ -x "$bin" ] || fail "$bin: no mediadex binary"
[ -f "$model" ] || fail "$model: the model is missing (scripts/fetch-model.sh, or ln -s the main tree's models/)"
command -v psql >/dev/null || fail "psql is missing (Debian's postgresql-client, installed with postgresql)"

db="mdx_e2e_$$"
psql -q "$server" -c "CREATE DATABASE $db" >/dev/null
url=${server%/*}/$db
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; psql -q "$server" -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT

# 8 processes opening an empty database at once: the migrations run once, every one succeeds.
race="${db}_race"
psql -q "$server" -c "CREATE DATABASE $race" >/dev/null
pids=()
for i in $(seq 8); do "$bin" status --catalog "${server%/*}/$race" >"$tmp/race$i.txt" 2>&1 & pids+=($!); done
for i in "${!pids[@]}"; do wait "${pids[$i]}" || fail "opener $((i + 1)) of 8 failed: $(cat "$tmp/race$((i + 1)).txt")"; done
# One row, at the latest version: the number of migrations (read from a catalog migrated alone).
psql -q "$server" -c "CREATE DATABASE ${race}_alone" >/dev/null
"$bin" status --catalog "${server%/*}/${race}_alone" >/dev/null 2>&1 || true
latest=$(psql -tA "${server%/*}/${race}_alone" -c "SELECT MAX(version) FROM mediadex_schema")
psql -q "$server" -c "DROP DATABASE ${race}_alone" >/dev/null
[ "$(psql -tA "${server%/*}/$race" -c "SELECT COUNT(*) || ':' || MAX(version) FROM mediadex_schema")" = "1:$latest" ] ||
  fail "mediadex_schema after the race: $(psql -tA "${server%/*}/$race" -c "TABLE mediadex_schema")"
psql -q "$server" -c "DROP DATABASE $race" >/dev/null

common=(--device cpu --model "$model" --concurrency 2)
"$bin" index "$samples" --quiet --catalog "$tmp/lib.db" "${common[@]}" || fail "index into SQLite"
MEDIADEX_CATALOG=$url "$bin" index "$samples" --quiet "${common[@]}" || fail "index into PostgreSQL (MEDIADEX_CATALOG)"
"$bin" export --format json --catalog "$tmp/lib.db" >"$tmp/sqlite.json" || fail "export from SQLite"
"$bin" export --format json --catalog "$url" >"$tmp/pg.json" || fail "export from PostgreSQL"

python3 - "$tmp/sqlite.json" "$tmp/pg.json" <<'PY' || fail "the exports differ (above)"
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
if pa != pb: print("files differ:", pa, pb); sys.exit(1)
if a != b: print("detections differ:\n sqlite:", a, "\n pg:", b); sys.exit(1)
if not a: print("no detections at all: the comparison proves nothing"); sys.exit(1)
print(f"pg_index_e2e: {len(pa)} files, {len(a)} detections, equal on both backends")
PY

"$bin" status --catalog "$url" >"$tmp/status.txt" || fail "status on PostgreSQL"
grep -q "mdx_e2e" "$tmp/status.txt" || fail "status does not name the catalog: $(cat "$tmp/status.txt")"
"$bin" search person --catalog "$url" >"$tmp/search.txt" || fail "search on PostgreSQL"
grep -q "human-samples" "$tmp/search.txt" || fail "search person found no human-samples.jpg: $(cat "$tmp/search.txt")"
"$bin" errors --catalog "$url" >/dev/null || fail "errors on PostgreSQL"

# Re-indexing finds nothing to do on both: the incremental scan works on PostgreSQL.
"$bin" index "$samples" --catalog "$url" "${common[@]}" >"$tmp/again.txt" 2>&1 || fail "second index: $(cat "$tmp/again.txt")"

# A second index while a session holds the run lock is refused, naming that session. The lock's
# key: (kRunLockClass "MDXR", FNV-1a of current_schema() masked to 31 bits), pg_schema.cpp.
schema=$(psql -tA "$url" -c "SELECT current_schema()")
key2=$(python3 -c "
import sys
h = 2166136261
for c in sys.argv[1].encode(): h = ((h ^ c) * 16777619) & 0xffffffff
print(h & 0x7fffffff)" "$schema")
mkfifo "$tmp/hold"
psql -q "$url" -v ON_ERROR_STOP=1 <"$tmp/hold" >"$tmp/holder.log" 2>&1 &
holder=$!
exec 7>"$tmp/hold"
printf "SET application_name = 'e2e-holder';\nSELECT pg_advisory_lock(%d, %d);\n" 1296324690 "$key2" >&7
for _ in $(seq 50); do
  [ "$(psql -tA "$url" -c "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" -ge 1 ] && break
  sleep 0.1
done
set +e
out=$("$bin" index "$samples" --catalog "$url" "${common[@]}" 2>&1)
rc=$?
set -e
exec 7>&-  # psql reads EOF and exits, dropping the lock
wait "$holder" 2>/dev/null || true
[ "$rc" -ne 0 ] || fail "a second index while the run lock is held succeeded: $out"
case "$out" in *"another \`mediadex index\` run (e2e-holder"*) ;; *) fail "refusal does not name the holder: $out" ;; esac
case "$out" in *"$url"*|*"${url#postgresql://}"*) ;; *) fail "refusal does not name the catalog: $out" ;; esac
echo "pg_index_e2e: OK"
