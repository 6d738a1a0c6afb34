#!/usr/bin/env bash
# Runs a command with PostgreSQL and Redis available to it.
#
# Uses the servers on their standard local ports when they answer;
# otherwise starts throwaway ones from the installed binaries (initdb,
# pg_ctl, redis-server) under a temporary directory and removes them when
# the command ends. Exports WORKPULSE_PG_ADMIN_URL and
# WORKPULSE_REDIS_URL for the tests and make dev (the PostgreSQL URL is of a maintenance database; each consumer creates its own database).
# With WITH_DEPS_REDIS_OPTIONAL=1 (make dev), a machine without any Redis gets
# WORKPULSE_REDIS_URL=inprocess instead of an error.
set -euo pipefail

pg_url="${WORKPULSE_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
redis_url="${WORKPULSE_REDIS_URL:-redis://127.0.0.1:6379/0}"
tmp=""
cleanup() {
  if [ -n "$tmp" ]; then
    [ -f "$tmp/pg/postmaster.pid" ] && "$PG_BIN/pg_ctl" -D "$tmp/pg" -m immediate stop >/dev/null 2>&1 || true
    [ -f "$tmp/redis.pid" ] && kill "$(cat "$tmp/redis.pid")" 2>/dev/null || true
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin /usr/local/bin /usr/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
  echo "with-deps: PostgreSQL is not running and initdb/pg_ctl are not installed (apt-get install postgresql)" >&2
  exit 1
}

if ! psql "$pg_url" -qAtc 'select 1' >/dev/null 2>&1; then
  PG_BIN=$(pg_bin)
  tmp=${tmp:-$(mktemp -d /tmp/workpulse-deps.XXXXXX)}
  port=${WORKPULSE_THROWAWAY_PG_PORT:-55432}
  echo "with-deps: starting a throwaway PostgreSQL on 127.0.0.1:$port" >&2
  runas=()
  if [ "$(id -u)" = 0 ]; then chown -R postgres "$tmp" 2>/dev/null || chmod 777 "$tmp"; runas=(runuser -u postgres --); fi
  "${runas[@]}" "$PG_BIN/initdb" -D "$tmp/pg" -U postgres -A trust >/dev/null
  "${runas[@]}" "$PG_BIN/pg_ctl" -D "$tmp/pg" -l "$tmp/pg.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c max_connections=400 -c fsync=off -c synchronous_commit=off" start >/dev/null
  pg_url="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
fi

if ! redis-cli -u "$redis_url" ping >/dev/null 2>&1 && ! command -v redis-server >/dev/null && [ "${WITH_DEPS_REDIS_OPTIONAL:-}" = 1 ]; then
  # make dev serves Redis's protocol itself (hack/devstack/redis.go).
  echo "with-deps: Redis is not running and redis-server is not installed: make dev runs an in-process one" >&2
  redis_url=inprocess
elif ! redis-cli -u "$redis_url" ping >/dev/null 2>&1; then
  if ! command -v redis-server >/dev/null; then
    echo "with-deps: Redis is not running and redis-server is not installed (apt-get install redis-server)" >&2
    exit 1
  fi
  tmp=${tmp:-$(mktemp -d /tmp/workpulse-deps.XXXXXX)}
  port=${WORKPULSE_THROWAWAY_REDIS_PORT:-56379}
  echo "with-deps: starting a throwaway Redis on 127.0.0.1:$port" >&2
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
    --dir "$tmp" --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis_url="redis://127.0.0.1:$port/0"
fi

export WORKPULSE_PG_ADMIN_URL="$pg_url" WORKPULSE_REDIS_URL="$redis_url"
"$@"
