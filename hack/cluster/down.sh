#!/usr/bin/env bash
# make cluster-down: stops exactly the processes up.sh started (by their
# recorded pid and start time), every container of the node, and removes
# what the node left in the kernel: mounts under the state directory, the
# wp0 bridge, the KUBE-* and CNI-* iptables chains, kube-router's ipsets,
# kubepods cgroups, and the sysctls it changed. Then the state directory
# goes. Safe to repeat.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || die "needs root"
[ -d "$STATE" ] || { log "not up (no $STATE)"; exit 0; }
exec 7>"$STATE/.lock"
flock -w 20 7 || log "another cluster-up/down holds $STATE/.lock; going ahead"

stop_proc kubelet 15
stop_proc kube-proxy 5
stop_proc kube-router 5

if alive containerd; then
  # Containers first, while containerd can still tell their shims to go.
  for t in $(ctr tasks ls -q 2>/dev/null); do ctr tasks kill -s KILL "$t" >/dev/null 2>&1 || true; done
  for _ in $(seq 50); do
    [ -z "$(ctr tasks ls -q 2>/dev/null | head -1)" ] && break
    for t in $(ctr tasks ls -q 2>/dev/null); do ctr tasks delete -f "$t" >/dev/null 2>&1 || true; done
    sleep 0.2
  done
fi
stop_proc containerd 10
# Shims outlive containerd by design; ours are the ones serving its socket.
for p in /proc/[0-9]*; do
  if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- "containerd-shim.* -address $CONTAINERD_SOCK"; then
    kill -KILL "${p#/proc/}" 2>/dev/null || true
  fi
done

for p in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_proc "$p" 10; done
# make e2e's throwaway dependencies (PostgreSQL's fast shutdown is SIGINT).
stop_proc e2e-postgres 15 INT
stop_proc e2e-redis 5
stop_proc e2e-kafka 5
stop_proc registry 5

# Mounts under the state directory (overlay roots, shm, netns, volumes), deepest first.
for _ in 1 2 3; do
  mapfile -t mounts < <(awk -v s="$STATE/" 'index($5, s) == 1 {print $5}' /proc/self/mountinfo | sort -r)
  [ "${#mounts[@]}" -eq 0 ] && break
  for m in "${mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
done

# iptables: drop every KUBE-* and CNI-* chain (kube-proxy's, kube-router's, the CNI
# plugins'), make e2e's WORKPULSE-* chain, and every rule that jumps to one, leaving all
# other rules as they were.
for ipt in iptables ip6tables; do
  command -v "$ipt-save" >/dev/null || continue
  for table in filter nat mangle raw; do
    rules=$("$ipt-save" -t "$table" 2>/dev/null) || continue
    grep -qE '(KUBE|CNI|WORKPULSE)-' <<<"$rules" || continue
    grep -vE '(KUBE|CNI|WORKPULSE)-' <<<"$rules" | "$ipt-restore" -T "$table" || log "could not clean $ipt table $table"
  done
done

# kube-router's ipsets (KUBE-SRC-* and KUBE-DST-*, each policy's peers and targets), which
# only its chains above referred to, so they can be destroyed now.
if command -v ipset >/dev/null; then
  for set in $(ipset list -n 2>/dev/null | grep -E '^KUBE-(SRC|DST)-'); do
    ipset destroy "$set" 2>/dev/null || log "could not destroy ipset $set"
  done
fi

ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE"

# cgroups the kubelet created (cgroupfs driver): empty once every pod is gone.
for h in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
  [ -d "$h" ] && find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null || true
done

if [ -f "$STATE/sysctl.orig" ]; then
  while read -r key value; do
    [ -f "/proc/sys/$key" ] && [ "$(cat "/proc/sys/$key")" != "$value" ] && { echo "$value" >"/proc/sys/$key" 2>/dev/null || log "could not restore $key"; }
  done <"$STATE/sysctl.orig"
fi
# Directories the components create outside the state directory, when they
# did not exist before the node came up.
for d in /run/containerd /var/log/containers /var/log/pods /var/lib/kubelet /etc/cni /opt/cni; do
  if [ -e "$d" ] && ! grep -qxF "$d" "$STATE/paths.orig" 2>/dev/null; then rm -rf "$d"; fi
done

if awk -v s="$STATE/" 'index($5, s) == 1 {found=1} END {exit !found}' /proc/self/mountinfo; then
  die "mounts remain under $STATE; not removing it"
fi
rm -rf "$STATE"
log "down"
