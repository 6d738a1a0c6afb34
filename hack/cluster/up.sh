#!/usr/bin/env bash
# make cluster-up: a real single-node Kubernetes cluster from host processes
# (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd,
# kubelet, kube-proxy, and kube-router enforcing NetworkPolicies), for machines
# without Docker. See docs/local-cluster.md.
#
# Idempotent: when the node is already up it only makes sure its registry
# holds the node's own images and prints how to use it. All state is under $WORKPULSE_CLUSTER_DIR
# (/tmp/workpulse-cluster); `make cluster-down` removes it and every trace.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "needs root (containerd, the kubelet, kube-proxy and kube-router manage mounts, cgroups, iptables and ipsets)"
t0=$SECONDS

# --- binaries, packages and node images -------------------------------------
"$ROOT/hack/cluster/k8s-bins.sh" node

need_pkgs=()
command -v containerd >/dev/null || need_pkgs+=(containerd)
command -v runc >/dev/null || need_pkgs+=(runc)
[ -x /usr/lib/cni/bridge ] || need_pkgs+=(containernetworking-plugins)
command -v iptables >/dev/null || need_pkgs+=(iptables)
command -v ipset >/dev/null || need_pkgs+=(ipset) # kube-router keeps each policy's peers in ipsets
command -v openssl >/dev/null || need_pkgs+=(openssl)
[ -x /bin/busybox ] || need_pkgs+=(busybox-static) # the helm test pod's shell
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

mkdir -p "$STATE"/{pki,logs,pids,etc,cni/net.d,cni/ipam,containerd,kubelet,pod-logs}
exec 7>"$STATE/.lock"
flock 7

# --- the node's registry ---------------------------------------------------------
# Built from the Go module proxy at the go-containerregistry version hack/ uses, once.
registry_bin() {
  local v stamp
  v=$(awk '$1 == "github.com/google/go-containerregistry" {print $2; exit}' "$ROOT/hack/go.mod")
  stamp="github.com/google/go-containerregistry/cmd/registry@$v"
  if [ ! -x "$ROOT/bin/registry" ] || [ "$(cat "$ROOT/bin/registry.stamp" 2>/dev/null)" != "$stamp" ]; then
    log "building $stamp into bin/"
    GOWORK=off GOBIN="$ROOT/bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -trimpath "$stamp"
    echo "$stamp" >"$ROOT/bin/registry.stamp"
  fi
}
registry_up() {
  # It keeps images in memory: a registry started anew gets the node's own images pushed again.
  alive registry && curl -fsS "http://$LOCAL_REGISTRY/v2/" >/dev/null 2>&1 && return
  stop_proc registry 5
  registry_bin
  start_proc registry "$ROOT/bin/registry" -port "$REGISTRY_PORT"
  wait_for 20 registry curl -fsS "http://$LOCAL_REGISTRY/v2/" || { tail -5 "$STATE/logs/registry.log" >&2; exit 1; }
  log "pushing the node's images (sandbox, cluster DNS, helm test shell) to $IMAGES"
  (cd "$ROOT" && go run ./hack/images -version "$VERSION" -push "$IMAGES" pause cluster-dns busybox)
}

usage() {
  cat <<EOF

The WorkPulse local node is up ($NODE_NAME, Kubernetes $K8S_VERSION, state in $STATE).

  export KUBECONFIG=$KUBECONFIG_ADMIN
  $K8S_BIN/kubectl get nodes,pods -A
  make cluster-down                # stop everything and clean up

Images: pulled from the node's registry $IMAGES/<name> (in memory, on loopback):
  make release REGISTRY=$IMAGES   # push every image and both charts to it
Pods reach this machine at $NODE_IP; Services resolve under $CLUSTER_DOMAIN via cluster-dns.
EOF
}

ALL=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy kube-router)
all_alive() { local p; for p in "${ALL[@]}"; do alive "$p" || return 1; done; }
if all_alive && kubectl get --raw /readyz >/dev/null 2>&1; then
  registry_up
  log "already up"
  usage
  exit 0
fi

# --- kernel settings (recorded once, restored by down.sh) --------------------
[ -d /proc/sys/net/bridge ] || modprobe br_netfilter 2>/dev/null || true
if [ ! -f "$STATE/sysctl.orig" ]; then
  for s in "${SYSCTLS[@]}"; do
    [ -f "/proc/sys/$s" ] && echo "$s $(cat "/proc/sys/$s")"
  done >"$STATE/sysctl.orig.tmp"
  mv "$STATE/sysctl.orig.tmp" "$STATE/sysctl.orig"
  for d in /run/containerd /var/log/containers /var/log/pods /var/lib/kubelet /etc/cni /opt/cni; do
    [ -e "$d" ] && echo "$d"
  done >"$STATE/paths.orig"
fi
echo 1 >/proc/sys/net/ipv4/ip_forward
[ -f /proc/sys/net/bridge/bridge-nf-call-iptables ] && echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables

# --- PKI -----------------------------------------------------------------------
pki="$STATE/pki"
cert() { # cert <file> <CN> <O or -> <client|server|both> [subjectAltName]
  local f=$1 cn=$2 o=$3 kind=$4 san=${5:-}
  [ -f "$pki/$f.crt" ] && return
  local subj="/CN=$cn" ext="$pki/$f.ext" eku
  [ "$o" = - ] || subj="/O=$o$subj"
  case $kind in
    client) eku=clientAuth ;; server) eku=serverAuth ;; both) eku=serverAuth,clientAuth ;;
  esac
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -z "$san" ] || echo "subjectAltName=$san"
  } >"$ext"
  openssl genrsa -out "$pki/$f.key" 2048 2>/dev/null
  openssl req -new -key "$pki/$f.key" -subj "$subj" -out "$pki/$f.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$f.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 365 -extfile "$ext" -out "$pki/$f.crt" 2>/dev/null
  rm -f "$pki/$f.csr" "$ext"
}
if [ ! -f "$pki/ca.crt" ]; then
  log "creating the PKI"
  openssl genrsa -out "$pki/ca.key" 2048 2>/dev/null
  openssl req -x509 -new -key "$pki/ca.key" -subj "/CN=workpulse-local-ca" -days 365 -out "$pki/ca.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi
cert apiserver kube-apiserver - server \
  "IP:$NODE_IP,IP:$API_SERVICE_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN,DNS:localhost"
cert apiserver-kubelet-client kube-apiserver-kubelet-client system:masters client
cert admin kubernetes-admin system:masters client
cert controller-manager system:kube-controller-manager - client
cert scheduler system:kube-scheduler - client
cert kube-proxy system:kube-proxy - client
cert kube-router kube-router - client
cert kubelet-client "system:node:$NODE_NAME" system:nodes client
cert kubelet-serving "system:node:$NODE_NAME" system:nodes server "IP:$NODE_IP,DNS:$NODE_NAME"

kubeconfig() { # kubeconfig <file> <cert name>
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: workpulse-local
  cluster:
    server: https://$NODE_IP:$API_PORT
    certificate-authority: $pki/ca.crt
users:
- name: $2
  user:
    client-certificate: $pki/$2.crt
    client-key: $pki/$2.key
contexts:
- name: workpulse-local
  context: {cluster: workpulse-local, user: $2}
current-context: workpulse-local
EOF
}
kubeconfig "$KUBECONFIG_ADMIN" admin
for c in controller-manager scheduler kube-proxy kube-router kubelet-client; do kubeconfig "$STATE/etc/$c.kubeconfig" "$c"; done

# --- the bridge: the node's address exists before anything listens on it ----
if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  ip link add "$BRIDGE" type bridge
fi
ip addr show dev "$BRIDGE" | grep -q "inet $NODE_IP/" || ip addr add "$NODE_IP/24" dev "$BRIDGE"
ip link set "$BRIDGE" up

# --- control plane -------------------------------------------------------------
if ! alive etcd; then
  start_proc etcd "$K8S_BIN/etcd" --name "$NODE_NAME" --data-dir "$STATE/etcd" \
    --listen-client-urls "http://$ETCD_CLIENT" --advertise-client-urls "http://$ETCD_CLIENT" \
    --listen-peer-urls "http://$ETCD_PEER" --initial-advertise-peer-urls "http://$ETCD_PEER" \
    --initial-cluster "$NODE_NAME=http://$ETCD_PEER" --unsafe-no-fsync --log-level warn
fi
wait_for 30 etcd curl -fsS "http://$ETCD_CLIENT/health"

if ! alive kube-apiserver; then
  start_proc kube-apiserver "$K8S_BIN/kube-apiserver" \
    --etcd-servers "http://$ETCD_CLIENT" \
    --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$API_PORT" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$pki/ca.crt" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer "https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true --profiling=false --event-ttl 1h
fi
wait_for 60 kube-apiserver kubectl get --raw /readyz

if ! alive kube-controller-manager; then
  start_proc kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$STATE/etc/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/etc/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE/etc/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" --cluster-cidr "$POD_CIDR"
fi
if ! alive kube-scheduler; then
  start_proc kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig "$STATE/etc/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/etc/scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE/etc/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --leader-elect=false
fi

# --- containerd ------------------------------------------------------------------
cat >"$STATE/etc/containerd.toml" <<EOF
version = 2
root = "$STATE/containerd/root"
state = "$STATE/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "$CONTAINERD_SOCK"

[plugins."io.containerd.internal.v1.opt"]
  path = "$STATE/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  # Built by hack/images and pushed to the node's registry by registry_up.
  sandbox_image = "$IMAGES/pause:$VERSION"
  # Root in this kind of VM may not set negative OOM scores; without this every sandbox fails.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_selinux = false

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$STATE/containerd/runc"

  # Where containerd finds how to reach each registry: the node's speaks plain HTTP.
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$STATE/etc/certs.d"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
EOF
cat >"$STATE/cni/net.d/10-workpulse.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "workpulse",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$STATE/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
mkdir -p "$STATE/etc/certs.d/$LOCAL_REGISTRY"
cat >"$STATE/etc/certs.d/$LOCAL_REGISTRY/hosts.toml" <<EOF
server = "http://$LOCAL_REGISTRY"

[host."http://$LOCAL_REGISTRY"]
  capabilities = ["pull", "resolve"]
EOF
registry_up
if ! alive containerd; then
  start_proc containerd containerd --config "$STATE/etc/containerd.toml"
fi
wait_for 30 containerd ctr version

# --- kubelet and kube-proxy ---------------------------------------------------------
# Pods resolve only cluster names: no upstream name server is handed to them.
: >"$STATE/etc/resolv.conf"
cat >"$STATE/etc/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: $pki/kubelet-serving.crt
tlsPrivateKeyFile: $pki/kubelet-serving.key
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
clusterDNS: [$DNS_SERVICE_IP]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: $STATE/etc/resolv.conf
podLogsDir: $STATE/pod-logs
# The registry is in memory and loses its images when it stops: never garbage-collect them.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2%}
maxPods: 60
EOF
if ! alive kubelet; then
  start_proc kubelet "$K8S_BIN/kubelet" --config "$STATE/etc/kubelet.yaml" \
    --kubeconfig "$STATE/etc/kubelet-client.kubeconfig" --root-dir "$STATE/kubelet" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
fi

cat >"$STATE/etc/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $STATE/etc/kube-proxy.kubeconfig}
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# NodePorts only on the node's bridge address, never on the machine's other interfaces.
nodePortAddresses: [$NODE_IP/32]
iptables: {localhostNodePorts: false}
# Leave the machine's conntrack settings alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
if ! alive kube-proxy; then
  start_proc kube-proxy "$K8S_BIN/kube-proxy" --config "$STATE/etc/kube-proxy.yaml"
fi

node_ready() { [ "$(kubectl get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
wait_for 90 "node $NODE_NAME Ready" node_ready || { tail -30 "$STATE/logs/kubelet.log" >&2; exit 1; }

# --- NetworkPolicy: kube-router as the firewall alone ---------------------------------
# The bridge CNI routes pods and kube-proxy serves Services; kube-router only turns
# NetworkPolicies into iptables rules and ipsets (the filter table's KUBE-ROUTER-* and
# KUBE-POD-FW-* chains, KUBE-SRC-* and KUBE-DST-* sets; down.sh removes them). Traffic from
# the node itself (the kubelet's probes, e2e's requests from this machine) is let through
# by kube-router's rule for the node's own addresses. No health or metrics port: nothing
# listens beyond the node's bridge address.
kubectl apply -f "$ROOT/hack/cluster/kube-router.yaml" >/dev/null
kr_log="$STATE/logs/kube-router.log" kr_from=0
if ! alive kube-router; then
  kr_from=$(stat -c %s "$kr_log" 2>/dev/null || echo 0)
  start_proc kube-router "$ROOT/bin/kube-router" --kubeconfig "$STATE/etc/kube-router.kubeconfig" \
    --hostname-override "$NODE_NAME" --run-firewall=true --run-router=false --run-service-proxy=false \
    --service-cluster-ip-range "$SERVICE_CIDR" --enable-ipv6=false --health-port 0 --metrics-port 0 --v 1
fi
# Its chains exist once its first full sync is through (logged, at --v 1, after what this start
# appended to the log); policies apply from then on.
firewall_synced() { iptables -w 5 -n -L KUBE-ROUTER-FORWARD >/dev/null && tail -c +$((kr_from + 1)) "$kr_log" | grep -q 'sync iptables took'; }
wait_for 90 "kube-router's first NetworkPolicy sync" firewall_synced || { tail -30 "$kr_log" >&2; exit 1; }

# --- cluster DNS (no CoreDNS image: hack/images/cmd/cluster-dns) ----------------------
sed -e "s/@VERSION@/$VERSION/g" -e "s|@IMAGES@|$IMAGES|g" -e "s/@DNS_SERVICE_IP@/$DNS_SERVICE_IP/g" -e "s/@CLUSTER_DOMAIN@/$CLUSTER_DOMAIN/g" \
  "$ROOT/hack/cluster/cluster-dns.yaml" | kubectl apply -f - >/dev/null
kubectl -n kube-system rollout status deployment/cluster-dns --timeout 120s >/dev/null ||
  { kubectl -n kube-system logs deployment/cluster-dns --tail 30 >&2 || true; exit 1; }

log "up in $((SECONDS - t0))s"
usage
