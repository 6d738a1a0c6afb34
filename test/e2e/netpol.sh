#!/usr/bin/env bash
# make e2e's NetworkPolicy step, with the release installed and kube-router enforcing
# (hack/cluster/up.sh):
#
#   test/e2e/netpol.sh <namespace> <release> <name>:<service port>:<host port>...
#
# The arguments after the release are the datastores (postgres:5432:35432 ...): each a
# Service of that name in the namespace, in front of relay pods, and the host's own port
# behind them. Three probe pods, the same image and the same connect probe, stand for:
#
#   outsider  an unlabelled pod in a namespace of its own (anyone's workload in the cluster);
#   ingress   a pod in the Ingress controller's namespace (the chart's default selector,
#             ingress-nginx): the front door;
#   release   a pod in the release's namespace with the release's labels: what the release's
#             own pods may reach, which shows the probe connects wherever a policy allows it.
#
# Every row below is checked: the public ports open to ingress and release only, the internal
# ports (probes, /metrics) to release only, auth's tenant API to the operator alone (its
# reconciles in the tenant step show that side), the datastores' Services to release only, and
# the host's datastore ports directly to none of them. A connect is a TCP handshake (busybox
# nc, 3 s): refused or dropped is "no".
set -euo pipefail
source "$(dirname "$0")/../../hack/cluster/lib.sh"

[ $# -ge 3 ] || die "usage: $0 <namespace> <release> <name>:<service port>:<host port>..."
NS=$1 RELEASE=$2
shift 2
DATASTORES=("$@")
OUTSIDER_NS=wp-outsider
INGRESS_NS=ingress-nginx
t0=$SECONDS

probe_pod() { # probe_pod <namespace> <name> <labels as a flow map>
  kubectl create namespace "$1" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  cat <<EOF | kubectl apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: $2, namespace: $1, labels: $3}
spec:
$(busybox_pod_spec probe '[/busybox, sleep, "3600"]' | sed 's/^/  /')
EOF
}
probe_pod "$OUTSIDER_NS" outsider '{app: outsider}'
probe_pod "$INGRESS_NS" ingress '{app: ingress}'
probe_pod "$NS" netpol-release "{app.kubernetes.io/instance: $RELEASE, app.kubernetes.io/part-of: workpulse, app.kubernetes.io/component: netpol-probe}"
cleanup() {
  kubectl -n "$NS" delete pod netpol-release --ignore-not-found --wait=false >/dev/null 2>&1 || true
  kubectl delete namespace "$OUTSIDER_NS" "$INGRESS_NS" --ignore-not-found --wait=false >/dev/null 2>&1 || true
}
trap cleanup EXIT
kubectl -n "$OUTSIDER_NS" wait --for=condition=Ready pod/outsider --timeout 90s >/dev/null
kubectl -n "$INGRESS_NS" wait --for=condition=Ready pod/ingress --timeout 90s >/dev/null
kubectl -n "$NS" wait --for=condition=Ready pod/netpol-release --timeout 90s >/dev/null

declare -A POD_NS=([outsider]=$OUTSIDER_NS [ingress]=$INGRESS_NS [release]=$NS)
declare -A POD_NAME=([outsider]=outsider [ingress]=ingress [release]=netpol-release)
connects() { # connects <probe> <host> <port>
  kubectl -n "${POD_NS[$1]}" exec "${POD_NAME[$1]}" -- /busybox nc -w 3 "$2" "$3" -e /busybox true >/dev/null 2>&1
}

# One running pod of each component, and its ports by name.
component_pod() {
  kubectl -n "$NS" get pods -l "app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/component=$1" \
    --field-selector status.phase=Running -o jsonpath='{.items[0].metadata.name}'
}
pod_ip() { kubectl -n "$NS" get pod "$1" -o jsonpath='{.status.podIP}'; }
pod_port() { kubectl -n "$NS" get pod "$1" -o jsonpath="{.spec.containers[0].ports[?(@.name==\"$2\")].containerPort}"; }

# rows: <what> <host> <port> <outsider> <ingress> <release> (yes: connects, no: refused)
rows=()
for c in auth session ingest report realtime web; do
  pod=$(component_pod "$c")
  [ -n "$pod" ] || die "no running $c pod"
  ip=$(pod_ip "$pod")
  rows+=("$c-public $ip $(pod_port "$pod" http) no yes yes")
  rows+=("$c-internal $ip $(pod_port "$pod" internal) no no yes")
  if [ "$c" = auth ]; then
    tenant=$(pod_port "$pod" tenant-api)
    [ -n "$tenant" ] || die "auth's pod has no tenant-api port"
    rows+=("auth-tenant-api $ip $tenant no no no")
  fi
done
if op=$(component_pod operator) && [ -n "$op" ]; then
  rows+=("operator-metrics $(pod_ip "$op") $(pod_port "$op" metrics) no no no")
fi
for d in "${DATASTORES[@]}"; do
  IFS=: read -r name port host_port <<<"$d"
  # By the Service's address: the image's static busybox does not resolve names for nc.
  rows+=("$name-service $(kubectl -n "$NS" get svc "$name" -o jsonpath='{.spec.clusterIP}') $port no no yes")
  rows+=("$name-host $NODE_IP $host_port no no no")
done

# kube-router adds a new pod to the sets of the policies that admit it on its next sync:
# the allowed connects are retried for a while, and checked before any refusal counts.
for row in "${rows[@]}"; do
  read -r what host port want_out want_in want_rel <<<"$row"
  for probe in outsider ingress release; do
    case $probe in outsider) want=$want_out ;; ingress) want=$want_in ;; release) want=$want_rel ;; esac
    [ "$want" = yes ] || continue
    wait_for 60 "$probe to connect to $what ($host:$port)" connects "$probe" "$host" "$port" ||
      die "$probe cannot connect to $what ($host:$port), which its policy allows"
  done
done
bad=() checked=0
for row in "${rows[@]}"; do
  read -r what host port want_out want_in want_rel <<<"$row"
  line="$what ($host:$port):"
  for probe in outsider ingress release; do
    case $probe in outsider) want=$want_out ;; ingress) want=$want_in ;; release) want=$want_rel ;; esac
    if connects "$probe" "$host" "$port"; then got=yes; else got=no; fi
    checked=$((checked + 1))
    line+=" $probe=$got"
    [ "$got" = "$want" ] || bad+=("$probe to $what ($host:$port): $got, want $want")
  done
  echo "netpol: $line" >&2
done
[ "${#bad[@]}" -eq 0 ] || die "NetworkPolicy not as the chart says: $(printf '%s; ' "${bad[@]}")"

# The front door still works: through the Ingress controller's namespace, web's pages and
# auth's API answer as they would through an Ingress.
web=$(component_pod web) auth=$(component_pod auth)
page=$(kubectl -n "$INGRESS_NS" exec ingress -- /bin/wget -qO- -T 10 "http://$(pod_ip "$web"):$(pod_port "$web" http)/") ||
  die "the Ingress controller's namespace gets no page from web"
grep -qi '<html' <<<"$page" || die "web's / is not a page: ${page:0:200}"
health=$(kubectl -n "$INGRESS_NS" exec ingress -- /bin/wget -qO- -T 10 "http://$(pod_ip "$auth"):$(pod_port "$auth" http)/api/health") ||
  die "the Ingress controller's namespace gets no /api/health from auth"
log "netpol: $checked connects as the policies say (${#rows[@]} ports, 3 peers); web's page and auth's /api/health answer the Ingress controller's namespace: ${health:0:120} ($((SECONDS - t0)) s)"
