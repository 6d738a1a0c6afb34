#!/usr/bin/env bash
# Prints the directory of the Gateway API's standard CRDs (HTTPRoute, Gateway,
# GatewayClass, ...) of a pinned release, downloaded through the Go module
# proxy into the module cache (checked against the checksum database), for
# the chart tests' API server. There are no release downloads here; the
# module holds config/crd as released.
#
# v1.6.3 is the newest release whose module builds with the repository's Go
# (v1.7 needs Go 1.27); the CRDs are what a cluster installs either way.
set -euo pipefail

GATEWAY_API_VERSION=${GATEWAY_API_VERSION:-v1.6.3}

# Outside the repository's workspace: the module is data here, not a dependency.
dir=$(cd / && GOWORK=off GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -f "$dir/config/crd/standard/gateway.networking.k8s.io_httproutes.yaml" ]; then
  echo "gateway-api-crds.sh: sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION has no config/crd/standard" >&2
  exit 1
fi
echo "$dir/config/crd/standard"
