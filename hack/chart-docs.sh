#!/usr/bin/env bash
# Writes the values table of each chart's README from the `# --` comments in its values.yaml
# (helm-docs, built once from the Go module proxy into bin/; README.md.gotmpl is the rest of the
# README). With --check, writes nothing and fails when a README is not what its values.yaml and
# template give, or when a value has no description: `make lint` runs it that way, so the
# documentation of every value is the comment next to it.
set -euo pipefail

HELM_DOCS_VERSION=${HELM_DOCS_VERSION:-v1.14.2}
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin/helm-docs"
stamp="github.com/norwoodj/helm-docs@$HELM_DOCS_VERSION"
mkdir -p "$root/bin"
if ! [ -x "$bin" ] || [ "$(cat "$bin.stamp" 2>/dev/null)" != "$stamp" ]; then
  echo "chart-docs.sh: building helm-docs $HELM_DOCS_VERSION (once; cached in bin/)" >&2
  GOWORK=off GOBIN="$root/bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go install -trimpath "github.com/norwoodj/helm-docs/cmd/helm-docs@$HELM_DOCS_VERSION"
  echo "$stamp" > "$bin.stamp"
fi

charts=(workpulse workpulse-crds)
generate() { # $1: a directory holding the charts
  for chart in "${charts[@]}"; do
    "$bin" --log-level warning --chart-search-root "$1" --chart-to-generate "$1/$chart" \
      --sort-values-order file --skip-version-footer
  done
}

if [ "${1:-}" != "--check" ]; then
  generate "$root/charts"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/charts/." "$work/"
generate "$work"
status=0
for chart in "${charts[@]}"; do
  if ! diff -u "$root/charts/$chart/README.md" "$work/$chart/README.md"; then
    echo "charts/$chart/README.md is not current: run hack/chart-docs.sh" >&2
    status=1
  fi
  # A table row whose last cell is empty is a value without a `# --` comment.
  if undocumented=$(grep -E '^\| .* \|  \|$' "$work/$chart/README.md"); then
    echo "charts/$chart/values.yaml has values without a '# --' description:" >&2
    echo "$undocumented" >&2
    status=1
  fi
done
exit $status
