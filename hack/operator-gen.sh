#!/usr/bin/env bash
# Generates the operator's code and manifests from the API types and the
# kubebuilder markers, with controller-gen (built by hack/envtest-bins.sh):
#   api/v1alpha1/zz_generated.deepcopy.go
#   operator/config/crd/bases/workpulse.io_workpulsetenants.yaml  (the CRD)
#   operator/config/rbac/role.yaml                                (the ClusterRole)
# The charts keep copies of the two manifests: run hack/chart-sync.sh after.
#
# hack/operator-gen.sh DIR writes everything under DIR instead (DIR/object,
# DIR/crd/bases, DIR/rbac): the operator's staleness test compares that with
# the checked-in files.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/hack/envtest-bins.sh" controller-gen
cd "$root"
out=${1:-}
if [ -z "$out" ]; then
  out="$root/operator/config"
  bin/controller-gen object paths=./api/v1alpha1/...
else
  bin/controller-gen object paths=./api/v1alpha1/... output:object:dir="$out/object"
fi
bin/controller-gen crd paths=./api/v1alpha1/... output:crd:artifacts:config="$out/crd/bases"
bin/controller-gen rbac:roleName=workpulse-operator paths=./operator/internal/controller/... output:rbac:artifacts:config="$out/rbac"
