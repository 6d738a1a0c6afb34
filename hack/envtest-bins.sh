#!/usr/bin/env bash
# Builds the binaries the operator tests need, from the Go module proxy,
# into bin/ (gitignored), and reuses them when they are already there:
#
#   bin/k8s/kube-apiserver   k8s.io/kubernetes  $K8S_VERSION
#   bin/k8s/etcd             go.etcd.io/etcd    $ETCD_VERSION
#   bin/controller-gen       sigs.k8s.io/controller-tools $CONTROLLER_TOOLS_VERSION
#
# There are no release tarballs to download here, so each binary is built
# from a throwaway module under bin/.build/<name>. k8s.io/kubernetes is not
# meant to be a dependency: its go.mod replaces every k8s.io/* staging
# module with ./staging/..., which does not exist in the module zip, so the
# throwaway module pins each of them to the matching published v0.x tag.
# The list comes from kubernetes' own go.mod, so new staging modules (such
# as k8s.io/cri-streaming) are covered without editing this script.
#
# Cold build: about 5 minutes on 2 cores; afterwards the stamp files make
# this a no-op. Tests point envtest at KUBEBUILDER_ASSETS=<repo>/bin/k8s.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CONTROLLER_TOOLS_VERSION=${CONTROLLER_TOOLS_VERSION:-v0.23.0}

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
build="$bin/.build"
mkdir -p "$bin/k8s" "$build"

# Concurrent callers (parallel test packages, make -j) wait for one build.
exec 9>"$build/.lock"
flock 9

# The throwaway modules must not see the repository's go.work.
export GOWORK=off GOFLAGS=-buildvcs=false CGO_ENABLED=0

fresh() { # fresh <binary> <stamp text>: true when the binary was built from <stamp text>
  [ -x "$1" ] && [ -f "$1.stamp" ] && [ "$(cat "$1.stamp")" = "$2" ]
}

module() { # module <dir> <module path>: an empty module to build in
  rm -rf "$1" && mkdir -p "$1"
  (cd "$1" && go mod init "$2" >/dev/null 2>&1)
}

kube_apiserver() {
  local out="$bin/k8s/kube-apiserver" stamp="k8s.io/kubernetes@$K8S_VERSION"
  fresh "$out" "$stamp" && return
  echo "envtest-bins: building kube-apiserver $K8S_VERSION" >&2
  local dir="$build/kube-apiserver" staging="v0.${K8S_VERSION#v1.}"
  module "$dir" workpulse.local/envtest-kube-apiserver
  cd "$dir"
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  # "k8s.io/api => ./staging/src/k8s.io/api" becomes "k8s.io/api=k8s.io/api@v0.37.2".
  local args=(-require="k8s.io/kubernetes@$K8S_VERSION")
  local m
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*#\1#p' "$gomod"); do
    args+=(-replace="$m=$m@$staging")
  done
  [ "${#args[@]}" -gt 20 ] || { echo "envtest-bins: found no staging replace lines in $gomod" >&2; exit 1; }
  go mod edit "${args[@]}"
  cat >tools.go <<'EOF'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
EOF
  go mod tidy -e >/dev/null 2>&1 || true
  go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" >/dev/null
  go build -trimpath -o "$out" \
    -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION" \
    k8s.io/kubernetes/cmd/kube-apiserver
  echo "$stamp" >"$out.stamp"
  cd "$root"
}

etcd() {
  local out="$bin/k8s/etcd" stamp="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  fresh "$out" "$stamp" && return
  echo "envtest-bins: building etcd $ETCD_VERSION" >&2
  local dir="$build/etcd"
  module "$dir" workpulse.local/envtest-etcd
  cd "$dir"
  cat >main.go <<'EOF'
// Command etcd is etcd's own main, built from its module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null
  go mod tidy >/dev/null
  go build -trimpath -ldflags "-s -w" -o "$out" .
  echo "$stamp" >"$out.stamp"
  cd "$root"
}

controller_gen() {
  local out="$bin/controller-gen" stamp="sigs.k8s.io/controller-tools@$CONTROLLER_TOOLS_VERSION"
  fresh "$out" "$stamp" && return
  echo "envtest-bins: building controller-gen $CONTROLLER_TOOLS_VERSION" >&2
  local dir="$build/controller-gen"
  module "$dir" workpulse.local/controller-gen
  cd "$dir"
  go get "sigs.k8s.io/controller-tools/cmd/controller-gen@$CONTROLLER_TOOLS_VERSION" >/dev/null
  go build -trimpath -ldflags "-s -w" -o "$out" sigs.k8s.io/controller-tools/cmd/controller-gen
  echo "$stamp" >"$out.stamp"
  cd "$root"
}

case "${1:-all}" in
  all) controller_gen; etcd; kube_apiserver ;;
  controller-gen) controller_gen ;;
  envtest) etcd; kube_apiserver ;;
  *) echo "usage: $0 [all|controller-gen|envtest]" >&2; exit 2 ;;
esac
