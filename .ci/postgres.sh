#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1 as the unprivileged `postgres` user, run a command with
# DESK_TEST_DATABASE_URL pointing at it, then stop it.  Usage: .ci/postgres.sh run CMD...
set -euo pipefail
[ "${1:-}" = run ] || { echo "usage: $0 run CMD..." >&2; exit 2; }
shift

# DESK_CI_PG_PORT, else the first free port from 55432 (another run on this machine may hold 55432)
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=${DESK_CI_PG_PORT:-55432}
if [ -z "${DESK_CI_PG_PORT:-}" ]; then
  while listening "$PORT"; do PORT=$((PORT + 1)); done
fi
DATA=$(mktemp -d /tmp/desk-ci-pg.XXXXXX)

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "$(bindir)" ] || [ ! -x "$(bindir)/initdb" ]; then
  echo "installing PostgreSQL from Debian packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
BIN=$(bindir)
id postgres >/dev/null 2>&1 || useradd --system --home-dir "$DATA" postgres

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

chown postgres "$DATA" 2>/dev/null || true
as_postgres "'$BIN/initdb' -D '$DATA/data' -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null"
start() {
  as_postgres "'$BIN/pg_ctl' -D '$DATA/data' -l '$DATA/log' -w -o \"-c listen_addresses=127.0.0.1 -p $PORT -k '$DATA' -c fsync=off -c max_connections=200\" start >/dev/null 2>&1"
}
# Another run may take the free port found above while initdb runs: then the next free one, a few times.
for attempt in 1 2 3 4 5 6 7 8; do
  start && break
  if [ -n "${DESK_CI_PG_PORT:-}" ] || [ "$attempt" = 8 ] || ! grep -q "could not bind" "$DATA/log"; then
    echo "PostgreSQL did not start on 127.0.0.1:$PORT; its log:" >&2; tail -n 20 "$DATA/log" >&2; rm -rf "$DATA"; exit 1
  fi
  PORT=$((PORT + 1)); while listening "$PORT"; do PORT=$((PORT + 1)); done
  : > "$DATA/log"
done
stop() { as_postgres "'$BIN/pg_ctl' -D '$DATA/data' -m fast stop >/dev/null" || true; rm -rf "$DATA"; }
trap stop EXIT

export DESK_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
"$@"
