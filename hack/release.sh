#!/usr/bin/env bash
# make release: every released image for PLATFORMS, pushed with go-containerregistry
# (hack/images -push: an OCI index per image, an SPDX SBOM referrer per platform), then both
# charts packaged and pushed as OCI artifacts with `helm push`, all to REGISTRY:
#
#   REGISTRY/<image>:<VERSION>               auth, session, ingest, report, realtime, web, operator, migrate
#   oci://REGISTRY/charts/<chart> --version  workpulse-crds, workpulse (their Chart.yaml version)
#
# The digests go to bin/release/values.yaml (image.registry and image.digests), which
# `helm install -f` takes so that the installation runs exactly what was pushed. Registry
# credentials come from the Docker/Helm configuration (docker login, helm registry login).
# A registry on localhost or 127.0.0.1 is spoken to over plain HTTP, as the e2e's is.
set -euo pipefail

: "${REGISTRY:?set REGISTRY, e.g. make release REGISTRY=localhost:5001/workpulse}"
PLATFORMS=${PLATFORMS:-linux/amd64,linux/arm64}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bin/release"
REGISTRY=${REGISTRY%/}
version=${VERSION:-$(cat "$root/VERSION")}

mkdir -p "$out"
rm -f "$out"/*.tgz "$out/values.yaml"
(cd "$root" && go run ./hack/images -version "$version" -push "$REGISTRY" -platforms "$PLATFORMS" -values "$out/values.yaml")

helm=$("$root/hack/helm.sh")
plain=()
case ${REGISTRY%%/*} in localhost | localhost:* | 127.* ) plain=(--plain-http) ;; esac
for chart in workpulse-crds workpulse; do
  "$helm" package "$root/charts/$chart" -d "$out" >/dev/null
  v=$(awk '$1 == "version:" {print $2; exit}' "$root/charts/$chart/Chart.yaml")
  "$helm" push "$out/$chart-$v.tgz" "oci://$REGISTRY/charts" "${plain[@]}" 2>&1 | sed "s/^/release: /" >&2
done
echo "release: images and charts pushed to $REGISTRY; digests in ${out#"$root"/}/values.yaml" >&2
cat "$out/values.yaml"
