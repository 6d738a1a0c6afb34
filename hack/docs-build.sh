#!/usr/bin/env bash
# Installs the API docs page's assets (swagger-ui-dist, pinned in
# services/platform/apidocs/package.json) into services/platform/apidocs/dist/swagger-ui,
# which package apidocs embeds. make build and make dev run it before compiling
# the services; it does nothing when the copy is newer than the lockfile.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pkg="$root/services/platform/apidocs"
out="$pkg/dist/swagger-ui"
cd "$pkg"

if ! command -v npm >/dev/null; then
  echo "docs-build: npm is missing: install Node.js 20 or later" >&2
  exit 1
fi
if [ -f "$out/swagger-ui-bundle.js" ] && [ "$out/swagger-ui-bundle.js" -nt package-lock.json ]; then
  exit 0
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
mkdir -p "$out"
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
  cp node_modules/swagger-ui-dist/$f "$out/"
done
