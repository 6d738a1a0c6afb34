package plugin

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/workpulse/workpulse/operator/internal/specs"
)

// operatorInstallation is one WorkPulse operator found in the cluster: the installation it
// reconciles tenants for (its INSTALLATION) and the namespaces it watches (none: every one).
type operatorInstallation struct {
	Namespace, Deployment, Installation string
	Watches                             []string
}

func (o operatorInstallation) watches(ns string) bool {
	return len(o.Watches) == 0 || slices.Contains(o.Watches, ns)
}

// findOperators lists the chart's operator Deployments in every namespace, as the installations
// a tenant could belong to.
func findOperators(ctx context.Context, c client.Client) ([]operatorInstallation, error) {
	var list appsv1.DeploymentList
	if err := c.List(ctx, &list, client.MatchingLabels{labelPartOf: "workpulse", specs.LabelComponent: "operator"}); err != nil {
		return nil, err
	}
	ops := make([]operatorInstallation, 0, len(list.Items))
	for i := range list.Items {
		ops = append(ops, operatorOf(&list.Items[i]))
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Namespace != ops[j].Namespace {
			return ops[i].Namespace < ops[j].Namespace
		}
		return ops[i].Deployment < ops[j].Deployment
	})
	return ops, nil
}

// operatorOf reads what the chart's operator Deployment d is configured with.
func operatorOf(d *appsv1.Deployment) operatorInstallation {
	op := operatorInstallation{Namespace: d.Namespace, Deployment: d.Name}
	for _, ctr := range d.Spec.Template.Spec.Containers {
		for _, e := range ctr.Env {
			switch e.Name {
			case "INSTALLATION":
				op.Installation = e.Value
			case "WATCH_NAMESPACES":
				for _, ns := range strings.Split(e.Value, ",") {
					if ns = strings.TrimSpace(ns); ns != "" {
						op.Watches = append(op.Watches, ns)
					}
				}
			}
		}
	}
	return op
}

// installationFor picks the installation a new tenant in ns belongs to: the one operator that
// watches ns, or, of several, the one installed in ns itself. Guessing between two installations
// would hand the tenant (and its organization's data) to whichever came first, so several
// without one in ns, or none, is an error naming the choice. An operator without an installation
// name (a chart before the label) gives "": the tenant goes unlabelled, as that operator expects.
func installationFor(ops []operatorInstallation, ns string) (string, error) {
	var watching []operatorInstallation
	for _, op := range ops {
		if op.watches(ns) {
			watching = append(watching, op)
		}
	}
	switch len(watching) {
	case 0:
		return "", fmt.Errorf("no WorkPulse operator watches namespace %s: install one, or pass --installation", ns)
	case 1:
		return watching[0].Installation, nil
	}
	var inNamespace []operatorInstallation
	names := make([]string, 0, len(watching))
	for _, op := range watching {
		names = append(names, fmt.Sprintf("%s (deployment %s/%s)", orNone(op.Installation), op.Namespace, op.Deployment))
		if op.Namespace == ns {
			inNamespace = append(inNamespace, op)
		}
	}
	if len(inNamespace) == 1 {
		return inNamespace[0].Installation, nil
	}
	return "", fmt.Errorf("%d WorkPulse installations watch namespace %s, pass --installation with one of: %s",
		len(watching), ns, strings.Join(names, ", "))
}
