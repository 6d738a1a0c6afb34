#!/usr/bin/env bash
# Installs helm into bin/helm from the Go module proxy (there are no release
# downloads here) and reuses it when the stamp says it is the wanted
# version. Prints the binary's path. The chart tests and `make test` call it.
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v3.22.0}
# The Kubernetes version helm assumes for template and lint (a release build
# sets it from its client-go, v0.37 for helm v3.22; go install would leave
# v1.20, older than the charts' kubeVersion).
K8S_MINOR=${K8S_MINOR:-37}

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/helm"
stamp="helm.sh/helm/v3@$HELM_VERSION k8s=1.$K8S_MINOR"
mkdir -p "$root/bin"

# Parallel test packages wait for one build.
exec 9>"$root/bin/.helm.lock"
flock 9

if [ -x "$out" ] && [ -f "$out.stamp" ] && [ "$(cat "$out.stamp")" = "$stamp" ]; then
  echo "$out"
  exit 0
fi
echo "helm.sh: building helm $HELM_VERSION (once; cached in bin/)" >&2
# go install of a versioned path ignores the workspace; the flags keep the
# binary static and reproducible.
GOWORK=off GOBIN="$root/bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
  go install -trimpath -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$K8S_MINOR \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$K8S_MINOR" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2
echo "$stamp" >"$out.stamp"
echo "$out"
