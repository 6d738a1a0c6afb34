//go:build tools

// Package tools pins kube-router, the local node's NetworkPolicy enforcer, so that
// hack/cluster/up.sh builds it from this module's go.sum (see go.mod for why the
// versions differ from kube-router's own).
package tools

import _ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
