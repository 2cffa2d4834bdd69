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
# COPIES times, in sub-folders of DIR.
make_library() {
  local dir=$1 copies=$2 c f
  shift 2
  for c in $(seq "$copies"); do
    mkdir -p "$dir/set$c"
    for f in "$@"; do
      for p in "$f"/*.jpg "$f"/*.png; do
        [ -f "$p" ] || continue
        ln "$p" "$dir/set$c/$(basename "$p")" 2>/dev/null || cp "$p" "$dir/set$c/$(basename "$p")"
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
