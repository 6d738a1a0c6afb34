#!/usr/bin/env bash
# Installs Debian's pgbouncer when it is missing: the tests start their own
# PgBouncer in transaction mode in front of PostgreSQL to prove that
# row-level security holds through a pooler as well as direct.
set -euo pipefail
for bin in /usr/sbin/pgbouncer /usr/bin/pgbouncer; do
  if [ -x "$bin" ]; then
    exit 0
  fi
done
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# Only the binary is wanted: the package's own service is never started.
$sudo apt-get install -y -qq --no-install-recommends pgbouncer >/dev/null
/usr/sbin/pgbouncer --version
