#!/usr/bin/env bash
# make e2e's checks of an installation scaled out behind its front door (ingress.routing
# frontDoor; ingest, session and realtime at two replicas or more):
#
#   test/e2e/frontdoor.sh bench <namespace> <release> <loadgen binary> [seconds]
#   test/e2e/frontdoor.sh socketio <namespace> <release>
#
# Both go to the Service that the release's one Ingress rule names, as an Ingress controller
# would send them: the node has none, so they reach that Service through the node's network.
#
# bench: the tracking benchmark's one-organization load (hack/loadgen: 64 agents, 64 concurrent
# posters). It passes when loadgen finds every accepted second counted once (exact), no request
# failed, and each ingest and session pod served at least a tenth of its service's API requests
# during the run (the pods' own workpulse_http_requests_total), so the figure is one of replicas
# sharing the work, not of one pod with an idle twin.
#
# socketio: the real socket.io-client through the front door's affinity to two realtime pods,
# one client on each (test/socketio/across-pods.mjs says what it checks).
set -euo pipefail
source "$(dirname "$0")/../../hack/cluster/lib.sh"

usage="usage: $0 bench <namespace> <release> <loadgen binary> [seconds] | socketio <namespace> <release>"
[ $# -ge 3 ] || die "$usage"
CHECK=$1 NS=$2 RELEASE=$3
t0=$SECONDS

# The front door: the one rule of the release's one Ingress, and the Service it names.
ingress=$(kubectl -n "$NS" get ingress -l "app.kubernetes.io/instance=$RELEASE" -o json)
rules=$(jq -c '[.items[].spec.rules[]?.http.paths[]?]' <<<"$ingress")
[ "$(jq length <<<"$rules")" = 1 ] || die "the release's Ingresses have $(jq length <<<"$rules") rules, want the front door's one: $rules"
read -r svc port_name prefix < <(jq -r '.[0] | "\(.backend.service.name) \(.backend.service.port.name // .backend.service.port.number) \(.path)"' <<<"$rules")
svc_json=$(kubectl -n "$NS" get service "$svc" -o json)
port=$(jq -r --arg p "$port_name" '.spec.ports[] | select(.name == $p or (.port | tostring) == $p) | .port' <<<"$svc_json")
[ -n "$port" ] || die "Service $svc has no port $port_name"
FRONT="http://$(jq -r .spec.clusterIP <<<"$svc_json"):$port"
log "frontdoor: the Ingress's one rule ($prefix) names Service $svc:$port_name, $FRONT"

# pod_metrics <component>: "<pod> <its /metrics URL>" for each running pod of the component, on
# its internal port (the pods' addresses are reachable from the node).
pod_metrics() {
  kubectl -n "$NS" get pods -l "app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/component=$1" \
    --field-selector status.phase=Running -o json | jq -r '.items[] | select(.metadata.deletionTimestamp == null) |
      "\(.metadata.name) http://\(.status.podIP):\(.spec.containers[0].ports[] | select(.name == "internal") | .containerPort)/metrics"'
}

socketio() {
  local urls dir="$ROOT/test/socketio"
  urls=$(pod_metrics realtime | awk '{print $2}' | jq -Rsc 'split("\n") | map(select(. != ""))')
  [ "$(jq length <<<"$urls")" = 2 ] || die "realtime runs $(jq length <<<"$urls") pods, want 2 (one client on each)"
  # npm ci wipes node_modules: only when the lockfile is newer than the installed tree.
  [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ] ||
    (cd "$dir" && npm ci --no-audit --no-fund >&2)
  local err
  err=$(mktemp)
  node "$dir/across-pods.mjs" "$(jq -nc --arg api "$FRONT/api" --arg origin "$FRONT" --argjson metrics "$urls" \
    '{api: $api, origin: $origin, metrics: $metrics, timeoutMs: 30000}')" 2> >(tee "$err" >&2) ||
    { sleep 0.2; die "Socket.IO across two realtime pods: $(tail -1 "$err")"; }
  rm -f "$err"
  log "frontdoor: Socket.IO across two realtime pods through the front door ($((SECONDS - t0)) s)"
}

case $CHECK in
  socketio) socketio; exit 0 ;;
  bench) [ $# -ge 4 ] || die "$usage"; LOADGEN=$4 SECS=${5:-20} ;;
  *) die "$usage" ;;
esac
SCALED=(ingest session)

declare -A METRICS COMPONENT BEFORE
for c in "${SCALED[@]}"; do
  n=0
  while read -r name url; do
    [ -n "$name" ] || continue
    METRICS[$name]=$url COMPONENT[$name]=$c
    n=$((n + 1))
  done < <(pod_metrics "$c")
  [ "$n" -ge 2 ] || die "$c runs $n pods, want 2 or more"
done
# API requests a pod has served: its HTTP counter summed over the /api routes (the probes and
# /metrics are the internal port's own routes, which this leaves out).
served() {
  curl -sS --fail -m 5 "${METRICS[$1]}" |
    awk '/^workpulse_http_requests_total\{/ && /route="\/api/ {n += $NF} END {printf "%d\n", n}'
}
for p in "${!METRICS[@]}"; do BEFORE[$p]=$(served "$p") || die "no /metrics from pod $p"; done

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$LOADGEN" -loads one-org -d "${SECS}s" -anchors=false -out "" -target "$FRONT/api" >"$out" 2>&1 ||
  { cat "$out" >&2; die "loadgen through the front door failed: $(tail -1 "$out")"; }
cat "$out" >&2
result=$(grep '^one-org: ' "$out") || die "loadgen printed no one-org result"
grep -q ' ok, 0 errors (0 5xx) ' <<<"$result" || die "requests failed through the front door: $result"
grep -q '(exact)$' <<<"$result" || die "not exact through the front door: $result"

# A pod that restarted during the run lost its counter: its share is then not known, and fails.
declare -A DELTA TOTAL
for p in "${!METRICS[@]}"; do
  now=$(served "$p") || die "no /metrics from pod $p after the load"
  DELTA[$p]=$((now - BEFORE[$p]))
  TOTAL[${COMPONENT[$p]}]=$((${TOTAL[${COMPONENT[$p]}]:-0} + DELTA[$p]))
done
shares=()
for p in $(printf '%s\n' "${!METRICS[@]}" | sort); do
  shares+=("$p ${DELTA[$p]}/${TOTAL[${COMPONENT[$p]}]}")
done
for p in "${!METRICS[@]}"; do
  total=${TOTAL[${COMPONENT[$p]}]}
  [ "$total" -gt 0 ] || die "${COMPONENT[$p]}'s pods served no request of the load"
  [ $((DELTA[$p] * 10)) -ge "$total" ] || die "pod $p served ${DELTA[$p]} of ${COMPONENT[$p]}'s $total API requests, under a tenth: ${shares[*]}"
done
log "frontdoor: through the front door, ${result#one-org: }; requests per pod: ${shares[*]}; load average $(cut -d' ' -f1-3 /proc/loadavg) ($((SECONDS - t0)) s)"
