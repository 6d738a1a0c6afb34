#!/usr/bin/env bash
# Builds the web app (services/web/web) into services/web/internal/web/dist/app,
# which the web service embeds. make build and make dev run it before compiling
# the services. It does nothing when the build is newer than every source file
# and the installed packages are newer than the lockfile, so that a second
# make dev starts at once.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
app="$root/services/web/web"
out="$root/services/web/internal/web/dist/app"
source "$root/hack/npm-lib.sh"

npm_install_in "$app" web-build
if [ -f "$out/index.html" ] &&
  [ -z "$(find src checks index.html package.json package-lock.json tsconfig.json vite.config.ts -newer "$out/index.html" -print -quit)" ]; then
  exit 0
fi
npm run --silent build
