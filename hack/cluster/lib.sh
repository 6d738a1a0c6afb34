# Shared settings of the local node (sourced by up.sh, down.sh and e2e.sh).
#
# Everything the node creates lives under $STATE (processes' pid files,
# logs, PKI, containerd's root and state, the kubelet's root, CNI state),
# apart from what the kernel keeps: the wp0 bridge, iptables chains, mounts
# and a few sysctls, which down.sh removes or restores.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STATE=${WORKPULSE_CLUSTER_DIR:-/tmp/workpulse-cluster}
K8S_VERSION=${K8S_VERSION:-v1.37.2}
VERSION=${VERSION:-$(cat "$ROOT/VERSION" 2>/dev/null || echo 0.1.0)}
K8S_BIN="$ROOT/bin/k8s"

NODE_NAME=workpulse-node
BRIDGE=wp0
POD_CIDR=10.244.0.0/24
# The bridge's address is the node: the API server, the kubelet and the
# throwaway dependencies of the e2e test listen on it, and pods reach it.
NODE_IP=10.244.0.1
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
DNS_SERVICE_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local
API_PORT=6443
ETCD_CLIENT=127.0.0.1:32379
ETCD_PEER=127.0.0.1:32380

# The node's image registry (go-containerregistry's cmd/registry, in memory): containerd pulls
# every image from it, make release pushes to it. That program listens on loopback only, which
# is where containerd, a host process, pulls from; pods never pull themselves.
REGISTRY_PORT=5001
LOCAL_REGISTRY=localhost:$REGISTRY_PORT
IMAGES="$LOCAL_REGISTRY/workpulse"

CONTAINERD_SOCK="$STATE/containerd/containerd.sock"
KUBECONFIG_ADMIN="$STATE/kubeconfig"

# Kernel settings the kubelet and kube-proxy may change; up.sh records them
# once and down.sh puts them back.
SYSCTLS=(
  net/ipv4/ip_forward
  net/bridge/bridge-nf-call-iptables
  net/bridge/bridge-nf-call-ip6tables
  net/ipv4/conf/all/route_localnet
  vm/overcommit_memory
  vm/panic_on_oom
  kernel/panic
  kernel/panic_on_oops
  kernel/keys/root_maxkeys
  kernel/keys/root_maxbytes
  net/netfilter/nf_conntrack_max
  net/netfilter/nf_conntrack_tcp_timeout_established
  net/netfilter/nf_conntrack_tcp_timeout_close_wait
)

log() { echo "cluster: $*" >&2; }
# The reason is kept so a script's exit trap can repeat it after long diagnostics, and written
# to $DIED_FILE when set, so that the script which ran this one can name it too.
die() {
  log "$*"
  DIED_BECAUSE="$*"
  [ -z "${DIED_FILE:-}" ] || echo "$*" >"$DIED_FILE"
  exit 1
}

kubectl() { "$K8S_BIN/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }
ctr() { command ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }

# A process is ours when its pid file names a live process with the same
# start time, so a recycled pid is never signalled.
proc_start() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

alive() { # alive <name>
  local f="$STATE/pids/$1" pid start
  [ -f "$f" ] || return 1
  read -r pid start <"$f"
  [ -n "$pid" ] && [ "$(proc_start "$pid")" = "$start" ]
}

start_proc() { # start_proc <name> <command...>: runs it in its own session, logging to logs/<name>.log
  local name=$1
  shift
  mkdir -p "$STATE/pids" "$STATE/logs"
  # 7>&-: the daemon must not inherit (and so hold) up.sh's lock.
  setsid "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null 7>&- &
  local pid=$!
  sleep 0.05
  echo "$pid $(proc_start "$pid")" >"$STATE/pids/$name"
}

stop_proc() { # stop_proc <name> [seconds] [signal]: TERM (or signal), then KILL after the grace period
  local name=$1 grace=${2:-10} sig=${3:-TERM} f="$STATE/pids/$1" pid start
  [ -f "$f" ] || return 0
  read -r pid start <"$f"
  if alive "$name"; then
    kill -"$sig" "$pid" 2>/dev/null || true
    for _ in $(seq $((grace * 10))); do alive "$name" || break; sleep 0.1; done
    alive "$name" && kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do alive "$name" || break; sleep 0.1; done
  fi
  rm -f "$f"
}

# busybox_pod_spec <container> <command as a YAML flow list>: the spec of a pod running the
# node's busybox image, non-root with a read-only root (make e2e's datastore relays and probes).
busybox_pod_spec() {
  cat <<EOF
automountServiceAccountToken: false
terminationGracePeriodSeconds: 0
securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
containers:
  - name: $1
    image: $IMAGES/busybox:$VERSION
    command: $2
    resources: {requests: {cpu: 5m, memory: 8Mi}}
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
EOF
}

wait_for() { # wait_for <seconds> <what> <command...>
  local secs=$1 what=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { log "timed out after ${secs}s waiting for $what"; return 1; }
    sleep 0.5
  done
}
