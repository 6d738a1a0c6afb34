#!/usr/bin/env bash
# Runs every `func FuzzXxx` target of the workspace with the given -fuzztime
# each (go test runs one fuzz target per invocation).
#
# The budget is an execution count ("20000x") rather than a duration: with a
# duration, Go 1.26's fuzz coordinator can report its own deadline as a failure
# ("context deadline exceeded", no crasher written; golang/go#75804). A count
# never arms that deadline, so a failure here is always a real finding.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-20000x}
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' api migrations services operator hack 2>/dev/null | sort | while read -r file; do
  dir=$(dirname "$file")
  for target in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //'); do
    echo "fuzz: $dir $target ($fuzztime)"
    go test -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "./$dir"
  done
done
