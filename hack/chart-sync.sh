#!/usr/bin/env bash
# Copies the operator's generated manifests into the charts, which can only
# read files inside themselves: the CRD into workpulse-crds and the
# ClusterRole's source into workpulse. hack/chartcheck fails while a copy
# differs from its source, so run this after `controller-gen` changes them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cp "$root/operator/config/crd/bases/workpulse.io_workpulsetenants.yaml" "$root/charts/workpulse-crds/files/"
cp "$root/operator/config/rbac/role.yaml" "$root/charts/workpulse/files/operator-role.yaml"
