#!/usr/bin/env bash
# Starts and stops a throw-away PostgreSQL server for the `pg` tests (tests/pg/README.md).
#
#   tests/pg/pg_fixture.sh start STATE_DIR   # initdb + start; writes STATE_DIR/url
#   tests/pg/pg_fixture.sh stop STATE_DIR    # stops it and removes STATE_DIR
#
# The server: Debian's PostgreSQL binaries (pg_config --bindir, else /usr/lib/postgresql/*/bin),
# a data directory under STATE_DIR, a free loopback port, its unix socket in STATE_DIR, trust
# authentication for 127.0.0.1 only. As root it runs as the `postgres` OS user (initdb refuses
# root). fsync is off unless PG_FIXTURE_FSYNC=on: the tests check behaviour, not durability.
# PG_FIXTURE_LISTEN=ADDR[,ADDR]: also listen there (e.g. the host end of a test's veth pair);
# PG_FIXTURE_TRUST_NET=CIDR: trust connections from there too (pg_hba.conf).
# Any missing piece is an error naming it, never a silent skip.
set -euo pipefail

die() { echo "pg_fixture.sh: $*" >&2; exit 1; }

cmd=${1:-}
state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || die "usage: pg_fixture.sh start|stop STATE_DIR"

find_bindir() {
  local d
  if command -v pg_config >/dev/null; then
    d=$(pg_config --bindir 2>/dev/null || true)
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin /opt/homebrew/opt/postgresql@*/bin /usr/local/opt/postgresql@*/bin 2>/dev/null | sort -V -r) /opt/homebrew/bin /usr/local/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  die "no PostgreSQL server binaries (initdb, pg_ctl) found via pg_config --bindir or /usr/lib/postgresql/*/bin; install Debian's postgresql (scripts/setup.sh --tests)"
}

# Runs a command as the server's OS user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    if command -v runuser >/dev/null; then runuser -u postgres -- "$@"
    else setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; fi
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null && return
  local p
  for p in $(seq 25432 25999); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  die "no free loopback port in 25432-25999"
}

start() {
  local bindir port
  bindir=$(find_bindir)
  if [ -f "$state/pid" ]; then stop_server || true; fi
  rm -rf "$state"
  mkdir -p "$state"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' OS user to run the server as (install Debian's postgresql)"
    chown postgres: "$state"
    # The server user must be able to reach STATE_DIR through its parents: grant search (x, not
    # read) only on those it cannot pass, and say so.
    local d
    d=$(cd "$state" && pwd)
    while d=$(dirname "$d"); [ "$d" != / ]; do
      if ! as_owner test -x "$d"; then
        chmod o+x "$d" || die "the postgres user cannot reach $state through $d (chmod o+x refused)"
        echo "pg_fixture.sh: chmod o+x $d (so the postgres user can reach $state)" >&2
      fi
    done
  fi
  as_owner "$bindir/initdb" -D "$state/data" -U postgres -A trust --no-locale -E UTF8 --no-sync \
    >"$state/initdb.log" 2>&1 || { cat "$state/initdb.log" >&2; die "initdb failed (log above)"; }
  if [ -n "${PG_FIXTURE_TRUST_NET:-}" ]; then
    echo "host all all ${PG_FIXTURE_TRUST_NET} trust" >>"$state/data/pg_hba.conf"
  fi
  local listen=127.0.0.1${PG_FIXTURE_LISTEN:+,$PG_FIXTURE_LISTEN}
  port=$(free_port)
  local fsync=${PG_FIXTURE_FSYNC:-off}
  # A few tries: another process may take the port between free_port and the bind.
  local try
  for try in 1 2 3; do
    if as_owner "$bindir/pg_ctl" -D "$state/data" -l "$state/server.log" -w -t 60 \
         -o "-p $port -k $state -c listen_addresses=$listen -c fsync=$fsync -c max_connections=200" start \
         >"$state/pg_ctl.log" 2>&1; then
      echo "$bindir" >"$state/bindir"
      echo "$port" >"$state/port"
      head -1 "$state/data/postmaster.pid" >"$state/pid"
      echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$state/url"
      echo "pg_fixture.sh: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $state/data); url in $state/url"
      return
    fi
    port=$(free_port)
  done
  cat "$state/pg_ctl.log" "$state/server.log" >&2 2>/dev/null || true
  die "the server did not start (logs above)"
}

stop_server() {
  local bindir
  bindir=$(cat "$state/bindir" 2>/dev/null || find_bindir)
  as_owner "$bindir/pg_ctl" -D "$state/data" -m fast -w -t 60 stop >/dev/null 2>&1 || {
    local pid
    pid=$(cat "$state/pid" 2>/dev/null || true)
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  }
}

case "$cmd" in
  start) start ;;
  stop)
    [ -d "$state" ] || exit 0
    stop_server
    rm -rf "$state"
    ;;
  *) die "unknown command $cmd (start|stop)" ;;
esac
