#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests and screenshots when it is
# missing: Playwright cannot download a browser of its own on a machine that
# reaches only the package registries, and a fresh machine has none.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
