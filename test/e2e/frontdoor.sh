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
# failed, and each ingest pod served at least a tenth of ingest's API requests during the run
# (the pods' own workpulse_http_requests_total), so the figure is one of replicas sharing the
# work, not of one pod with an idle twin; then 128 concurrent reads of the sessions list, of which
# each session pod must serve a tenth likewise, in one of up to three rounds.
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

# Each pod's /metrics, and the API requests it has served: its HTTP counter summed over the /api
# routes (the probes and /metrics are the internal port's own routes, which this leaves out).
declare -A METRICS BEFORE
served() {
  curl -sS --fail -m 5 "${METRICS[$1]}" |
    awk '/^workpulse_http_requests_total\{/ && /route="\/api/ {n += $NF} END {printf "%d\n", n}'
}
count_from_now() { # count_from_now <component>: its pods, and what each has served so far
  local name url n=0
  for name in "${!METRICS[@]}"; do [[ $name != *-"$1"-* ]] || unset "METRICS[$name]" "BEFORE[$name]"; done
  while read -r name url; do
    [ -n "$name" ] || continue
    METRICS[$name]=$url
    BEFORE[$name]=$(served "$name") || die "no /metrics from pod $name"
    n=$((n + 1))
  done < <(pod_metrics "$1")
  [ "$n" -ge 2 ] || die "$1 runs $n pods, want 2 or more"
}
SHARES=()
SKEW=""
shared() { # shared <component> [try]: each of its pods served at least a tenth of what they all served since count_from_now; with try, a pod under it sets SKEW and returns 1
  local name total=0 now
  declare -A delta
  for name in "${!METRICS[@]}"; do
    [[ $name == *-"$1"-* ]] || continue
    # A pod that restarted lost its counter, and fails here rather than be counted wrong.
    now=$(served "$name") || die "no /metrics from pod $name"
    delta[$name]=$((now - BEFORE[$name]))
    total=$((total + delta[$name]))
  done
  [ "$total" -gt 0 ] || die "$1's pods served no API request"
  local split=()
  for name in $(printf '%s\n' "${!delta[@]}" | sort); do split+=("${delta[$name]}"); done
  for name in "${!delta[@]}"; do
    [ $((delta[$name] * 10)) -lt "$total" ] || continue
    SKEW="pod $name served ${delta[$name]} of $1's $total API requests, under a tenth (${split[*]})"
    [ "${2:-}" = try ] && return 1
    die "$SKEW"
  done
  SHARES+=("$1 $(IFS=/; echo "${split[*]}")")
}

# The benchmark's one-organization load: nearly all of it is ingest's.
count_from_now ingest
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$LOADGEN" -loads one-org -d "${SECS}s" -anchors=false -out "" -target "$FRONT/api" >"$out" 2>&1 ||
  { cat "$out" >&2; die "loadgen through the front door failed: $(tail -1 "$out")"; }
cat "$out" >&2
result=$(grep '^one-org: ' "$out") || die "loadgen printed no one-org result"
grep -q ' ok, 0 errors (0 5xx) ' <<<"$result" || die "requests failed through the front door: $result"
grep -q '(exact)$' <<<"$result" || die "not exact through the front door: $result"
shared ingest

# Session's part of that load is its setup and the exactness check, one request after another
# on the front door's one kept connection: concurrent readers of the sessions list show whether
# session's Service spreads a load over both pods.
token=$(curl -sS --fail-with-body -m 15 -H 'content-type: application/json' "$FRONT/api/auth/register" \
  -d "{\"email\":\"frontdoor-$(date +%s%N)@example.com\",\"password\":\"correct horse\",\"name\":\"Front Door\",\"organization_name\":\"Front Door\"}" |
  jq -r .access_token)
[ -n "$token" ] && [ "$token" != null ] || die "register through the front door gave no token"
# A round's new connections can all land on one pod (the Service picks a pod per connection, and
# the front door keeps its connections), or a pod's endpoint can reach the node a moment late: a
# skewed round is read again, up to three; a Service that never spreads fails all three.
READS=128
for round in 1 2 3; do
  count_from_now session
  failed=$(seq "$READS" | xargs -P 16 -I{} curl -s -o /dev/null -w '%{http_code}\n' -m 15 -H "Authorization: Bearer $token" "$FRONT/api/sessions" |
    grep -vc '^200$' || true)
  [ "$failed" = 0 ] || die "$failed of $READS concurrent reads of the sessions list through the front door failed"
  shared session try && break
  [ "$round" -lt 3 ] || die "$SKEW, in three rounds"
  echo "frontdoor: $SKEW; reading again" >&2
  sleep 2
done

log "frontdoor: through the front door, ${result#one-org: }; API requests per pod: ${SHARES[*]} (ingest: the load; session: $READS concurrent reads); load average $(cut -d' ' -f1-3 /proc/loadavg) ($((SECONDS - t0)) s)"
