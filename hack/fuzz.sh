#!/usr/bin/env bash
# Runs every `func FuzzXxx` target of the workspace for the given time each
# (go test runs one fuzz target per invocation).
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-5s}
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' api migrations services operator hack 2>/dev/null | sort | while read -r file; do
  dir=$(dirname "$file")
  for target in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //'); do
    echo "fuzz: $dir $target ($fuzztime)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "./$dir"
  done
done
