# Shared by the scripts that build front-end assets with npm (sourced).

# npm_install_in DIR TOOL: makes DIR's node_modules match its lockfile
# (npm ci, only when the lockfile is newer than the last install), and
# fails with TOOL's name when npm is missing.
npm_install_in() {
  if ! command -v npm >/dev/null; then
    echo "$2: npm is missing: install Node.js 20 or later" >&2
    exit 1
  fi
  cd "$1"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
}
