#!/usr/bin/env bash
# Installs the API docs page's assets (swagger-ui-dist, pinned in
# services/platform/apidocs/package.json) into services/platform/apidocs/dist/swagger-ui,
# which package apidocs embeds. make build and make dev run it before compiling
# the services; it does nothing when the copy is newer than the lockfile.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
pkg="$root/services/platform/apidocs"
out="$pkg/dist/swagger-ui"
source "$root/hack/npm-lib.sh"

if [ -f "$out/swagger-ui-bundle.js" ] && [ "$out/swagger-ui-bundle.js" -nt "$pkg/package-lock.json" ]; then
  exit 0
fi
npm_install_in "$pkg" docs-build
mkdir -p "$out"
for f in swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE; do
  cp node_modules/swagger-ui-dist/$f "$out/"
done
