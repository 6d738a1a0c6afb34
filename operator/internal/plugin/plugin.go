// Package plugin is `kubectl workpulse`: what someone operating an installation asks first (is it
// healthy, are its tenants ready, when do their jobs run next) and a tenant manifest the API server
// accepts, without reading the chart or the CRD. Each command gathers objects from the cluster
// and hands them to a pure function that decides what to print, so the output is tested without a
// cluster and the gathering against a real API server.
package plugin

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/workpulse/workpulse/operator/internal/controller"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// IO is where a command writes: its result to Out, progress and warnings to Err.
type IO struct{ Out, Err io.Writer }

const usage = `kubectl workpulse: the WorkPulse installation from kubectl.

Commands:
  status                 the installation's components, Kafka lag, outbox age, storage months ahead
                         and install-wide jobs (scraped through port-forwards to each pod's metrics)
  tenants                every WorkPulseTenant: installation, organization, Ready, storage, months
                         ahead, next jobs
  tenant create NAME     a WorkPulseTenant manifest for an installation, checked by the API server
                         (see --help)

Flags of every command: --kubeconfig, --context, -n/--namespace (default: the context's namespace).
`

// usageError is a mistake in the command line: exit status 2, as flag parsing errors.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
func (usageError) ExitCode() int   { return 2 }

// cluster is how a command reaches the API server.
type cluster struct {
	rest      *rest.Config
	client    client.Client
	clientset kubernetes.Interface
	namespace string
}

// Main runs the command in args.
func Main(ctx context.Context, args []string, out IO, clk clock.Clock) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "--help" || args[0] == "-h" {
		fmt.Fprint(out.Out, usage)
		return nil
	}
	switch {
	case args[0] == "status":
		return runStatus(ctx, args[1:], out, clk)
	case args[0] == "tenants":
		return runTenants(ctx, args[1:], out, clk)
	case args[0] == "tenant" && len(args) > 1 && args[1] == "create":
		return runTenantCreate(ctx, args[2:], out)
	}
	return usageError{fmt.Sprintf("unknown command %q\n\n%s", strings.Join(args, " "), usage)}
}

// connection holds the flags every command shares.
type connection struct {
	kubeconfig, context, namespace string
}

func (c *connection) register(fs *flag.FlagSet) {
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&c.context, "context", "", "kubeconfig context (default: the current one)")
	fs.StringVar(&c.namespace, "namespace", "", "namespace (default: the context's)")
	fs.StringVar(&c.namespace, "n", "", "namespace (shorthand)")
}

func (c connection) connect() (*cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if c.kubeconfig != "" {
		rules.ExplicitPath = c.kubeconfig
	}
	cfg := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{
		CurrentContext: c.context, Context: clientcmdapi.Context{Namespace: c.namespace}})
	restCfg, err := cfg.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes client configuration: %w", err)
	}
	ns, _, err := cfg.Namespace()
	if err != nil {
		return nil, fmt.Errorf("namespace: %w", err)
	}
	cl, err := client.New(restCfg, client.Options{Scheme: controller.Scheme()})
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, err
	}
	return &cluster{rest: restCfg, client: cl, clientset: cs, namespace: ns}, nil
}

// parse parses args with fs. It says whether the command should go on: not after --help, which
// printed the flags; a bad flag is a usage error.
func parse(fs *flag.FlagSet, args []string, errOut io.Writer) (bool, error) {
	fs.SetOutput(errOut)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return false, nil
	case err != nil:
		return false, usageError{err.Error()}
	case fs.NArg() > 0:
		return false, usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return true, nil
}
