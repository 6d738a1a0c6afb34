#!/usr/bin/env bash
# Installs the Debian packages the tests run as real processes, when missing:
# chromium for the browser tests and screenshots (Playwright cannot download a
# browser on a machine that reaches only the package registries), pgbouncer
# for the row-level-security checks through a pooler, and promtool (package
# prometheus) for the alerting rules' checks. A fresh machine has none of
# them; one apt-get run installs whatever is missing, and a machine that has
# them all returns at once. Only the binaries are wanted: no package's own
# service is started.
set -euo pipefail

# binary:package[,package...]
wanted=(
  /usr/bin/chromium:chromium,fonts-dejavu-core
  /usr/sbin/pgbouncer:pgbouncer
  /usr/bin/promtool:prometheus
)

missing=()
for entry in "${wanted[@]}"; do
  bin=${entry%%:*}
  if [ ! -x "$bin" ]; then
    IFS=, read -r -a pkgs <<<"${entry#*:}"
    missing+=("${pkgs[@]}")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# A package whose maintainer script would start its service (prometheus,
# pgbouncer) is told no by policy-rc.d while it installs.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  own_policy=1
fi
cleanup() { if [ -n "$own_policy" ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT
# Several test binaries may call this at once; apt holds its own lock, this
# one keeps the second caller from failing on it.
exec 9>/tmp/workpulse-debian-packages.lock
flock 9
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "debian-packages: installed ${missing[*]}" >&2
