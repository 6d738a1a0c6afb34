// Package chartcheck validates the Helm charts, the Dockerfile, kind-config.yaml and
// skaffold.yaml without a container engine: helm lint and template, a server-side dry-run of
// every rendered object against a real API server (envtest) with the CRDs installed, the
// operator's RBAC under impersonation, the Ingress against api/routes, the PrometheusRule
// expressions, and the metrics the dashboard and rules query; and that .gitignore covers every
// build output and no source. Everything is in its tests.
package chartcheck
