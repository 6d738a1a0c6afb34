#!/usr/bin/env bash
# Builds the binaries of the local node into bin/ (gitignored), reusing
# them when their stamp matches:
#
#   bin/k8s/etcd, bin/k8s/kube-apiserver         hack/envtest-bins.sh (shared with envtest)
#   bin/k8s/kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl
#                                                 k8s.io/kubernetes $K8S_VERSION, here
#   bin/helm                                      helm.sh/helm/v3 $HELM_VERSION (hack/helm.sh when present)
#   bin/kube-router                               the NetworkPolicy enforcer, from hack/kube-router's go.sum
#
# Same technique as hack/envtest-bins.sh: a throwaway module under
# bin/.build/node pins every k8s.io/* staging module (k8s.io/cri-streaming
# included) to the published v0.x tag, read from kubernetes' own go.mod.
# All five commands build in one `go build`, so shared packages compile once;
# with kube-apiserver already in the Go build cache that is about 4 minutes
# on 2 cores, and a no-op afterwards.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
NODE_BINS=(kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/bin"
build="$bin/.build"
mkdir -p "$bin/k8s" "$build"

# envtest's two binaries come from the operator's script, which has its own lock.
"$root/hack/envtest-bins.sh" envtest

exec 8>"$build/.node-lock"
flock 8

export GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0

fresh() { [ -x "$1" ] && [ -f "$1.stamp" ] && [ "$(cat "$1.stamp")" = "$2" ]; }

node_bins() {
  local stamp="k8s.io/kubernetes@$K8S_VERSION" missing=() b
  for b in "${NODE_BINS[@]}"; do fresh "$bin/k8s/$b" "$stamp" || missing+=("$b"); done
  [ "${#missing[@]}" -eq 0 ] && return
  echo "k8s-bins: building ${missing[*]} $K8S_VERSION" >&2
  local dir="$build/node" staging="v0.${K8S_VERSION#v1.}"
  rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
  go mod init workpulse.local/node-bins >/dev/null 2>&1
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  local args=(-require="k8s.io/kubernetes@$K8S_VERSION") m
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*#\1#p' "$gomod"); do
    args+=(-replace="$m=$m@$staging")
  done
  # A parse of kubernetes' go.mod has missed k8s.io/cri-streaming before;
  # without its replace line the build fails much later, so fail now.
  printf '%s\n' "${args[@]}" | grep -q 'k8s.io/cri-streaming=' ||
    { echo "k8s-bins: no replace line for k8s.io/cri-streaming in $gomod" >&2; exit 1; }
  go mod edit "${args[@]}"
  local pkgs=()
  {
    echo '//go:build tools'; echo; echo 'package tools'; echo; echo 'import ('
    for b in "${missing[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$b\""; pkgs+=("k8s.io/kubernetes/cmd/$b"); done
    echo ')'
  } >tools.go
  go mod tidy -e >/dev/null 2>&1 || true
  go build -trimpath -o "$bin/k8s/" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION" "${pkgs[@]}"
  for b in "${missing[@]}"; do echo "$stamp" >"$bin/k8s/$b.stamp"; done
  cd "$root"
}

kube_router_bin() {
  # The stamp is the module's own go.mod and go.sum: a changed pin rebuilds it.
  local mod="$root/hack/kube-router" stamp v
  stamp=$(cat "$mod/go.mod" "$mod/go.sum" | sha256sum | cut -d' ' -f1)
  fresh "$bin/kube-router" "$stamp" && return
  v=$(awk '{sub(/^require /, "")} $1 == "github.com/cloudnativelabs/kube-router/v2" {print $2; exit}' "$mod/go.mod")
  echo "k8s-bins: building kube-router $v (hack/kube-router)" >&2
  (cd "$mod" && go build -mod=readonly -trimpath -o "$bin/kube-router" \
    -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$v" \
    github.com/cloudnativelabs/kube-router/v2/cmd/kube-router)
  echo "$stamp" >"$bin/kube-router.stamp"
}

helm_bin() {
  # The chart's tests build helm with hack/helm.sh; one helm, one stamp.
  if [ -x "$root/hack/helm.sh" ]; then "$root/hack/helm.sh" >/dev/null; return; fi
  local stamp="helm.sh/helm/v3@$HELM_VERSION"
  fresh "$bin/helm" "$stamp" && return
  echo "k8s-bins: building helm $HELM_VERSION" >&2
  GOBIN="$bin" go install -trimpath -ldflags "-s -w" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "$stamp" >"$bin/helm.stamp"
}

case "${1:-all}" in
  all) node_bins; helm_bin ;;
  node) node_bins ;;
  kube-router) kube_router_bin ;;
  helm) helm_bin ;;
  *) echo "usage: $0 [all|node|kube-router|helm]" >&2; exit 2 ;;
esac
