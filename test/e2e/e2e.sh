#!/usr/bin/env bash
# make e2e: WorkPulse on the local node (hack/cluster/up.sh), end to end.
#
#  1. the node (hack/cluster/up.sh) with its registry, then make release
#     pushing every image and both charts to that registry;
#  2. throwaway PostgreSQL, Redis and a kfake Kafka broker listening on the
#     node's bridge address ($NODE_IP), reached by pods through Services
#     named postgres, redis and kafka whose pods relay to them (the machine's
#     own servers listen on 127.0.0.1 only, which pods cannot reach), so that
#     NetworkPolicy guards them as it would in-cluster datastores;
#  3. the node's own smoke test: the migrate image as a Job against the
#     throwaway PostgreSQL through Service DNS, and the schemas appear;
#  4. helm install oci:// of both charts from the node's registry, with the
#     digests make release recorded: every Deployment Ready, every image
#     pulled by digest, the migrations hook applied;
#     register and post activity through the Services; a WorkPulseTenant
#     Ready with partitions and CronJobs; a Job from its daily-summary
#     CronJob writes summary rows; kubectl workpulse status, tenants and
#     tenant create; helm test; helm upgrade; a scheduled run
#     of the idle-detection CronJob succeeds; NetworkPolicy enforced
#     (test/e2e/netpol.sh); scaled out behind the
#     chart's front door, the tracking load and Socket.IO across two
#     replicas (test/e2e/frontdoor.sh) and a second installation beside
#     it, nothing crossing between the two (test/e2e/installations.sh;
#     E2E_SCALE_OUT=0 leaves these out);
#     helm rollback; helm uninstall;
#  5. cluster down (KEEP_CLUSTER=1 leaves it up for a look).
#
# Steps whose chart or operator does not exist yet are reported as skipped,
# not passed. Failing pods' descriptions and logs are printed on failure.
set -euo pipefail
source "$(dirname "$0")/../../hack/cluster/lib.sh"

NS=workpulse
RELEASE=workpulse
# The release the upgrade starts from (hack/upgrade-from: main before the registry path, no tag exists yet).
UPGRADE_FROM=${UPGRADE_FROM:-$(grep -v '^#' "$(dirname "$0")/../../hack/upgrade-from")}
UPGRADE_LOAD_SECONDS=${UPGRADE_LOAD_SECONDS:-240}
DRAIN_LOAD_SECONDS=${DRAIN_LOAD_SECONDS:-120}
PG_PORT=35432
REDIS_PORT=36379
KAFKA_PORT=39092
E2E="$STATE/e2e"
t0=$SECONDS
skipped=()

step() { current_step=$*; echo; echo "=== e2e [$((SECONDS - t0))s] $*" >&2; }
# run_check <script> <args...>: a check of its own script, whose reason for failing is this step's.
DIED_FILE=$(mktemp)
export DIED_FILE
run_check() { rm -f "$DIED_FILE"; "$@" || die "$(cat "$DIED_FILE" 2>/dev/null || echo "${1##*/} failed")"; }
psql_node() { psql "postgres://postgres@$NODE_IP:$PG_PORT/${PGDB:-workpulse}?sslmode=disable" -qAtX "$@"; }

dump_failures() {
  [ -f "$KUBECONFIG_ADMIN" ] || return 0
  echo "=== e2e: pods at failure" >&2
  kubectl get pods -A -o wide >&2 || true
  local ns name
  while read -r ns name; do
    echo "--- $ns/$name" >&2
    kubectl -n "$ns" describe pod "$name" | tail -25 >&2 || true
    kubectl -n "$ns" logs "$name" --all-containers --tail 60 >&2 || true
    kubectl -n "$ns" logs "$name" --all-containers --previous --tail 30 >&2 2>/dev/null || true
  done < <(kubectl get pods -A --no-headers 2>/dev/null |
    awk '$4 != "Running" && $4 != "Completed" {print $1, $2} $4 == "Running" {split($3, r, "/"); if (r[1] != r[2]) print $1, $2}')
  # A failed request of a pod that kept running (a 500 under load) shows only in its own log.
  echo "=== e2e: errors the release's pods logged" >&2
  local pod
  for pod in $(kubectl -n "$NS" get pods -o name 2>/dev/null); do
    kubectl -n "$NS" logs "$pod" --all-containers --tail 5000 2>/dev/null | grep '"level":"ERROR"' | tail -5 | sed "s|^|$pod: |" >&2 || true
  done
  kubectl get events -A --field-selector type=Warning --sort-by .lastTimestamp 2>/dev/null | tail -20 >&2 || true
  [ -z "$(kubectl get crd workpulsetenants.workpulse.io -o name 2>/dev/null)" ] ||
    kubectl get workpulsetenants -A -o yaml 2>/dev/null | tail -40 >&2 || true
}

finish() {
  local rc=$?
  trap - EXIT
  rm -f "$DIED_FILE"
  [ $rc -eq 0 ] || dump_failures
  if [ "${KEEP_CLUSTER:-0}" = 1 ]; then
    log "KEEP_CLUSTER=1: leaving the node up; make cluster-down removes it"
  else
    "$ROOT/hack/cluster/down.sh" || rc=1
  fi
  if [ $rc -eq 0 ]; then
    echo "=== e2e PASSED in $((SECONDS - t0))s${skipped:+ (skipped: ${skipped[*]})}" >&2
  else
    echo "=== e2e FAILED after $((SECONDS - t0))s${DIED_BECAUSE:+ at step \"$current_step\": $DIED_BECAUSE}" >&2
  fi
  exit $rc
}
trap finish EXIT
# A run stopped by a signal has not passed, whatever its last command returned.
trap 'DIED_BECAUSE="stopped by a signal"; exit 143' TERM INT HUP
# A failing command outside die names itself, so the last line of a failed run says what failed.
trap 'DIED_BECAUSE=${DIED_BECAUSE:-"line $LINENO: $BASH_COMMAND"}' ERR

step "node and its registry"
"$ROOT/hack/cluster/up.sh"
if [ -x "$ROOT/hack/helm.sh" ]; then HELM=$("$ROOT/hack/helm.sh"); else "$ROOT/hack/cluster/k8s-bins.sh" helm; HELM="$ROOT/bin/helm"; fi
helm() { "$HELM" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

step "make release to the node's registry ($IMAGES)"
released_at=$SECONDS
make -C "$ROOT" --no-print-directory release REGISTRY="$IMAGES" >/dev/null
RELEASE_VALUES="$ROOT/bin/release/values.yaml"
digest_of() { awk -v n="$1:" '$1 == n {gsub(/"/, "", $2); print $2}' "$RELEASE_VALUES"; }
log "released in $((SECONDS - released_at)) s: $(grep -c 'sha256:' "$RELEASE_VALUES") images by digest, both charts"
chart_version() { awk '$1 == "version:" {print $2; exit}' "$ROOT/charts/$1/Chart.yaml"; }
# Both charts as a stranger installs them: from the registry, over plain HTTP on loopback.
oci_chart() { echo "oci://$IMAGES/charts/$1" --version "$(chart_version "$1")" --plain-http; }

step "PostgreSQL, Redis and Kafka on $NODE_IP"
mkdir -p "$E2E"
pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin /usr/local/bin /usr/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  die "initdb/pg_ctl not found (apt-get install postgresql)"
}
if ! alive e2e-postgres; then
  PG_BIN=$(pg_bin)
  rm -rf "$E2E/pg" && mkdir -p "$E2E/pg" && chown postgres "$E2E" "$E2E/pg"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$E2E/pg" -U postgres -A trust >/dev/null
  # Pods connect from the pod network; the host from the bridge address.
  echo "host all all $POD_CIDR trust" >>"$E2E/pg/pg_hba.conf"
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$E2E/pg" -l "$E2E/postgres.log" -w \
    -o "-c listen_addresses=$NODE_IP -p $PG_PORT -k $E2E/pg -c max_connections=200 -c fsync=off -c synchronous_commit=off" start >/dev/null
  pid=$(head -1 "$E2E/pg/postmaster.pid")
  echo "$pid $(proc_start "$pid")" >"$STATE/pids/e2e-postgres"
fi
PGDB=postgres psql_node -c "select 1 from pg_database where datname = 'workpulse'" | grep -q 1 ||
  PGDB=postgres psql_node -c "create database workpulse"
if ! alive e2e-redis; then
  start_proc e2e-redis redis-server --bind "$NODE_IP" --port "$REDIS_PORT" --protected-mode no \
    --save "" --appendonly no --dir "$E2E"
fi
if ! alive e2e-kafka; then
  (cd "$ROOT" && go build -o "$E2E/broker" ./hack/cluster/broker)
  # Clients bootstrap through the kafka Service's relay and are told to stay on it.
  start_proc e2e-kafka "$E2E/broker" -addr "$NODE_IP:$KAFKA_PORT" -advertise kafka:9092 -partitions 3
fi
wait_for 20 redis redis-cli -h "$NODE_IP" -p "$REDIS_PORT" ping
wait_for 20 kafka bash -c "exec 3<>/dev/tcp/$NODE_IP/$KAFKA_PORT"

# Services named postgres, redis and kafka (the names hack/kind-up.sh's in-cluster ones have),
# each in front of a pod that relays every connection to the host's server (busybox nc, one
# process per connection). The pods are what the chart's networkPolicy.datastores select, so
# NetworkPolicy decides who reaches the datastores, as with datastores run in the cluster.
DATASTORES=(postgres:5432:$PG_PORT redis:6379:$REDIS_PORT kafka:9092:$KAFKA_PORT)
datastore_services() { # datastore_services <namespace>
  local svc name port target
  for svc in "${DATASTORES[@]}"; do
    IFS=: read -r name port target <<<"$svc"
    cat <<EOF
---
apiVersion: v1
kind: Service
metadata: {name: $name, namespace: $1}
spec:
  selector: {app: $name}
  ports: [{name: tcp, port: $port, targetPort: $port, protocol: TCP}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: $name, namespace: $1, labels: {workpulse.io/e2e-datastore-relay: "true"}}
spec:
  replicas: 1
  selector: {matchLabels: {app: $name}}
  template:
    metadata: {labels: {app: $name, workpulse.io/e2e-datastore-relay: "true"}}
    spec:
$(busybox_pod_spec relay "[/busybox, nc, -ll, -p, \"$port\", -e, /busybox, nc, $NODE_IP, \"$target\"]" | sed 's/^/      /')
EOF
  done
}
# The relays are make e2e's, not the release's: checks of the release's workloads leave them out.
not_relays=(-l '!workpulse.io/e2e-datastore-relay')
datastores_ready() { # datastores_ready <namespace>
  local svc
  for svc in "${DATASTORES[@]}"; do
    kubectl -n "$1" rollout status "deployment/${svc%%:*}" --timeout 90s >/dev/null || return 1
  done
}
# From the pod network the host's servers accept the relay pods alone, as a datastore's own
# firewall would: otherwise any pod could go round the datastores' NetworkPolicy by dialling
# this machine's address. The mangle table, because kube-router's filter rules, first in INPUT,
# accept what no policy refuses. down.sh removes the chain.
datastore_firewall() { # datastore_firewall <namespace of the relays>...
  local chain=WORKPULSE-E2E-DATASTORES ns ip ports="$PG_PORT,$REDIS_PORT,$KAFKA_PORT"
  iptables -w -t mangle -N "$chain" 2>/dev/null || iptables -w -t mangle -F "$chain"
  for ns in "$@"; do
    for ip in $(kubectl -n "$ns" get pods -l workpulse.io/e2e-datastore-relay -o jsonpath='{.items[*].status.podIP}'); do
      iptables -w -t mangle -A "$chain" -s "$ip" -j RETURN
    done
  done
  iptables -w -t mangle -A "$chain" -j DROP
  iptables -w -t mangle -C INPUT -i "$BRIDGE" -d "$NODE_IP" -p tcp -m multiport --dports "$ports" -j "$chain" 2>/dev/null ||
    iptables -w -t mangle -I INPUT -i "$BRIDGE" -d "$NODE_IP" -p tcp -m multiport --dports "$ports" -j "$chain"
}

step "smoke: the migrate image as a Job, through Service DNS, against PostgreSQL"
kubectl create namespace wp-smoke --dry-run=client -o yaml | kubectl apply -f - >/dev/null
datastore_services wp-smoke | kubectl apply -f - >/dev/null
datastores_ready wp-smoke
PGDB=postgres psql_node -c "drop database if exists smoke" -c "create database smoke"
kubectl -n wp-smoke delete job migrate --ignore-not-found >/dev/null
cat <<EOF | kubectl apply -f - >/dev/null
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: wp-smoke}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: migrate
          image: $IMAGES/migrate@$(digest_of migrate)
          args: [up]
          env: [{name: DATABASE_URL, value: "postgres://postgres@postgres.wp-smoke.svc.$CLUSTER_DOMAIN:5432/smoke?sslmode=disable"}]
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
EOF
kubectl -n wp-smoke wait --for=condition=Complete job/migrate --timeout 120s >/dev/null
schemas=$(PGDB=smoke psql_node -c "select count(*) from information_schema.schemata where schema_name in ('auth', 'tracking', 'reporting')")
[ "$schemas" = 3 ] || die "smoke: migrate Job completed but only $schemas of 3 schemas exist"
log "smoke: the migrate Job created the auth, tracking and reporting schemas"
kubectl delete namespace wp-smoke --wait=false >/dev/null

if [ ! -f "$ROOT/charts/workpulse/Chart.yaml" ]; then
  skipped+=(chart)
  log "charts/workpulse does not exist yet: skipping the chart steps"
  exit 0
fi

step "helm install"
kubectl create namespace "$NS" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
datastore_services "$NS" | kubectl apply -f - >/dev/null
datastores_ready "$NS"
datastore_firewall "$NS"
kubectl -n "$NS" create secret generic workpulse-database \
  --from-literal DATABASE_URL="postgres://postgres@postgres:5432/workpulse?sslmode=disable" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl -n "$NS" create secret generic workpulse-redis --from-literal REDIS_URL="redis://redis:6379/0" \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
# shellcheck disable=SC2046 # oci_chart's words are the chart, --version and --plain-http
helm upgrade --install workpulse-crds $(oci_chart workpulse-crds) -n "$NS" --wait --timeout 2m
# No Ingress controller and no front door on this node: the test pod checks
# every service's /readyz; the API is exercised through the Services below.
# The helm test shell is the node's own image, pushed by up.sh, not released.
node_values=(--set ingress.enabled=false --set monitoring.mode=never --set tests.apiURL=
  --set "tests.image=$IMAGES/busybox:$VERSION")
# The relay pods are this node's datastores: only the release's pods may reach them.
datastore_policies=$(for svc in "${DATASTORES[@]}"; do
  IFS=: read -r name port _ <<<"$svc"
  printf '{"name":"%s","podSelector":{"matchLabels":{"app":"%s"}},"ports":[{"port":%s,"protocol":"TCP"}]}\n' "$name" "$name" "$port"
done | jq -sc .)
chart_values=(-f "$ROOT/charts/workpulse/ci/dev-values.yaml" -f "$RELEASE_VALUES" "${node_values[@]}"
  --set-json "networkPolicy.datastores=$datastore_policies")

# The previous release: the chart and the sources of $UPGRADE_FROM, its images built
# from those sources by this hack/images (the old one only wrote tarballs) and pushed
# beside this release's, one platform, under $LOCAL_REGISTRY/previous.
prev="$E2E/previous"
rm -rf "$prev" && mkdir -p "$prev"
git -C "$ROOT" archive "$UPGRADE_FROM" | tar -x -C "$prev"
(cd "$ROOT" && go run ./hack/images -root "$prev" -version "$VERSION" -push "$LOCAL_REGISTRY/previous")
prev_values=(-f "$prev/charts/workpulse/ci/dev-values.yaml" "${node_values[@]}")
for c in auth session ingest report realtime web; do
  prev_values+=(--set "services.$c.image.repository=$LOCAL_REGISTRY/previous/$c")
done
prev_values+=(--set "operator.image.repository=$LOCAL_REGISTRY/previous/operator"
  --set "migrations.image.repository=$LOCAL_REGISTRY/previous/migrate")
helm install "$RELEASE" "$prev/charts/workpulse" -n "$NS" "${prev_values[@]}" --wait --timeout 8m
log "the previous release ($(git -C "$ROOT" log -1 --format='%h, %cs' "$UPGRADE_FROM")) is installed"
svc_url() { echo "http://$(kubectl -n "$NS" get svc "$RELEASE-$1" -o 'jsonpath={.spec.clusterIP}'):$2"; }
AUTH=$(svc_url auth 3001) SESSION=$(svc_url session 3002) INGEST=$(svc_url ingest 3003) REPORT=$(svc_url report 3004)

step "helm upgrade to this release (oci://) under load: nothing accepted is lost, no 5xx"
(cd "$ROOT" && go build -o "$E2E/loadgen" ./hack/loadgen)
# Closed-loop posters on their own sessions through the ingest Service, for longer than
# the upgrade takes; loadgen then checks every session's totals against what it accepted.
"$E2E/loadgen" -loads one-org -agents 4 -c 4 -d "${UPGRADE_LOAD_SECONDS}s" -anchors=false -out "" \
  -target "$AUTH/api" -session-url "$SESSION/api" -ingest-url "$INGEST/api" -report-url "$REPORT/api" \
  >"$E2E/upgrade-load.txt" 2>&1 &
load_pid=$!
sleep 10
upgrade_at=$SECONDS
# shellcheck disable=SC2046
helm upgrade "$RELEASE" $(oci_chart workpulse) -n "$NS" "${chart_values[@]}" --wait --timeout 8m
upgrade_s=$((SECONDS - upgrade_at))
wait "$load_pid" || { cat "$E2E/upgrade-load.txt" >&2; die "the load failed"; }
cat "$E2E/upgrade-load.txt" >&2
load=$(grep '^one-org: ' "$E2E/upgrade-load.txt")
[ $((upgrade_s + 10)) -lt "$UPGRADE_LOAD_SECONDS" ] || die "the upgrade took ${upgrade_s} s, longer than the load"
grep -q '(exact)$' <<<"$load" || die "activity accepted during the upgrade is missing: $load"
grep -q ' (0 5xx) ' <<<"$load" || die "5xx during the upgrade: $load"
log "upgraded in ${upgrade_s} s under load: ${load#one-org: }"
kubectl -n "$NS" get deployments,pods,cronjobs >&2

step "every pod runs a released image, by digest, pulled from the node's registry"
# Pods of the previous release may still be terminating.
pulled=$(kubectl -n "$NS" get pods "${not_relays[@]}" -o json | jq -r '.items[] | select(.metadata.deletionTimestamp == null) | .status.containerStatuses[]? | "\(.name) \(.image) \(.imageID)"')
echo "$pulled" >&2
# The image ID is the reference containerd pulled: repository@digest of the index.
while read -r cname _ image_id; do
  want="$IMAGES/$cname@$(digest_of "$cname")"
  [ "${image_id#docker-pullable://}" = "$want" ] || die "container $cname: image ID $image_id, want $want"
done <<<"$pulled"
log "$(wc -l <<<"$pulled") containers, each the digest make release pushed"

step "migrations hook applied"
tables=$(psql_node -c "select count(*) from pg_tables where schemaname in ('auth', 'tracking', 'reporting')")
[ "$tables" -gt 5 ] || die "the migrations hook left $tables tables"
log "$tables tables in auth, tracking and reporting"

step "no pod but the migrations Job holds the owner's credentials"
# The Job is gone once it succeeded; every workload left logs in as its own role.
owner_refs=$(kubectl -n "$NS" get deployments,cronjobs,pods -o json | jq -r '.items[] | select(tojson | contains("\"workpulse-database\"")) | "\(.kind)/\(.metadata.name)"')
[ -z "$owner_refs" ] || die "these name the owner's Secret: $owner_refs"
roles=$(psql_node -c "select string_agg(distinct usename, ',' order by usename) from pg_stat_activity where datname = 'workpulse' and usename <> 'postgres'")
case ",$roles," in *"_operator,"*) ;; *) die "no operator role among the connected roles: $roles" ;; esac
log "connected roles: $roles"

step "backup and restore: pg_dump of the schemas into a fresh database, every table's rows equal"
# The load has ended; nothing else writes rows of these schemas until the next step.
PG_URL="postgres://postgres@$NODE_IP:$PG_PORT"
# The whole database: besides the auth, tracking, reporting and realtime schemas, public holds
# what their row-level security policies call (current_org()) and the migrations' own table, so
# that a restored database is at the schema version its rows were written with.
pg_dump "$PG_URL/workpulse?sslmode=disable" -Fc -f "$E2E/backup.dump"
PGDB=postgres psql_node -c "drop database if exists workpulse_restored" -c "create database workpulse_restored"
pg_restore --exit-on-error -d "$PG_URL/workpulse_restored?sslmode=disable" "$E2E/backup.dump"
totals() { # totals <database>: every table's row count, and the sessions' tracked seconds
  local q
  q=$(PGDB=$1 psql_node -c "select string_agg(format('select %L as t, count(*) from %I.%I', schemaname || '.' || tablename, schemaname, tablename), ' union all ' order by schemaname, tablename) from pg_tables where schemaname in ('auth', 'tracking', 'reporting', 'realtime')")
  PGDB=$1 psql_node -c "$q order by 1"
  PGDB=$1 psql_node -c "select 'tracked seconds', coalesce(sum(total_active_seconds + total_idle_seconds), 0) from tracking.work_sessions"
  PGDB=$1 psql_node -c "select 'schema version', max(version_id) from public.workpulse_schema_migrations"
}
totals workpulse >"$E2E/totals.live"
totals workpulse_restored >"$E2E/totals.restored"
diff "$E2E/totals.live" "$E2E/totals.restored" >&2 || die "the restored database differs"
log "restored $(wc -l <"$E2E/totals.live") totals equal ($(du -h "$E2E/backup.dump" | cut -f1) dump): $(tail -2 "$E2E/totals.live" | head -1)"
PGDB=postgres psql_node -c "drop database workpulse_restored"

step "register and post activity through the Services"
post() { # post <url> <token or -> <json>
  local auth=()
  [ "$2" = - ] || auth=(-H "Authorization: Bearer $2")
  curl -sS --fail-with-body -m 15 -H 'content-type: application/json' "${auth[@]}" -d "$3" "$1"
}
email="e2e-$(date +%s)@example.com"
reg=$(post "$AUTH/api/auth/register" - "{\"email\":\"$email\",\"password\":\"correct horse\",\"name\":\"E2E\",\"organization_name\":\"E2E Org\"}")
token=$(jq -r .access_token <<<"$reg")
[ -n "$token" ] && [ "$token" != null ] || die "register: $reg"
session=$(post "$SESSION/api/sessions/start" "$token" '{}')
sid=$(jq -r .id <<<"$session")
act=$(post "$INGEST/api/sessions/$sid/activity" "$token" '{"activity_type":"active","duration_seconds":60,"client_activity_id":"e2e-1"}')
jq -e '.activity' <<<"$act" >/dev/null || die "activity: $act"
log "registered $email, session $sid, activity accepted: $(jq -c '.session | {total_active_seconds, total_idle_seconds}' <<<"$act" 2>/dev/null)"

step "Kafka stopped for 30 s: every Deployment stays Ready, activity is accepted, then relayed"
# Readiness reflects only what a pod cannot serve without: the outbox holds
# events while the broker is gone. SIGSTOP freezes the broker as a network
# partition would (connections hang rather than fail fast), and keeps its
# topics for when it comes back.
read -r kafka_pid _ <"$STATE/pids/e2e-kafka"
not_ready() { kubectl -n "$NS" get deployments -o json | jq -r '.items[] | select((.status.readyReplicas // 0) < .spec.replicas) | .metadata.name'; }
outbox_rows() { psql_node -c "select count(*) from tracking.outbox"; }
kill -STOP "$kafka_pid"
stopped_at=$SECONDS accepted=0 pending=0
while [ $((SECONDS - stopped_at)) -lt 30 ]; do
  accepted=$((accepted + 1))
  if ! act=$(post "$INGEST/api/sessions/$sid/activity" "$token" \
    "{\"activity_type\":\"active\",\"duration_seconds\":5,\"client_activity_id\":\"e2e-kafka-$accepted\"}"); then
    kill -CONT "$kafka_pid"
    die "activity refused with Kafka stopped: $act"
  fi
  waiting=$(not_ready)
  [ -z "$waiting" ] || { kill -CONT "$kafka_pid"; die "not Ready with Kafka stopped: $waiting"; }
  pending=$(outbox_rows)
  sleep 2
done
kill -CONT "$kafka_pid"
log "Kafka stopped $((SECONDS - stopped_at)) s: $accepted activities accepted, every Deployment Ready, $pending events waiting in the outbox"
[ "$pending" -gt 0 ] || die "no event waited in the outbox while Kafka was stopped"
resumed_at=$SECONDS
outbox_empty() { [ "$(outbox_rows)" = 0 ]; }
# A failed publish backs off for at most 30 s.
wait_for 120 "the outbox to drain after Kafka came back" outbox_empty || die "$(outbox_rows) events still in the outbox"
log "every waiting event relayed $((SECONDS - resumed_at)) s after Kafka came back"

step "WorkPulseTenant"
if [ -z "$(kubectl get crd workpulsetenants.workpulse.io -o name 2>/dev/null)" ] ||
  [ -z "$(kubectl -n "$NS" get deployment -l app.kubernetes.io/component=operator -o name 2>/dev/null)" ]; then
  skipped+=(tenant)
  log "no WorkPulseTenant CRD or operator Deployment yet: skipping the tenant steps"
else
  cat <<EOF | kubectl apply -f - >/dev/null
apiVersion: workpulse.io/v1alpha1
kind: WorkPulseTenant
metadata: {name: e2e-acme, namespace: $NS}
spec:
  displayName: E2E Acme
  plan: pro
  timeZone: UTC
  storage: Shared
  deletionPolicy: Delete
  admin: {email: admin@e2e-acme.example.com, name: E2E Admin}
EOF
  kubectl -n "$NS" wait --for=condition=Ready workpulsetenant/e2e-acme --timeout 180s
  kubectl -n "$NS" get workpulsetenant e2e-acme -o wide >&2
  org=$(kubectl -n "$NS" get workpulsetenant e2e-acme -o 'jsonpath={.status.organizationID}')
  months=$(kubectl -n "$NS" get workpulsetenant e2e-acme -o 'jsonpath={.status.partitions.months}')
  [ -n "$org" ] && [ "${months:-0}" -gt 0 ] || die "tenant Ready without organization ($org) or partitions ($months)"
  parts=$(psql_node -c "select count(*) from pg_inherits")
  log "tenant e2e-acme: organization $org, $months months, $parts partitions in pg_inherits"
  kubectl get cronjobs -A >&2
  # The operator names it daily-summary-<organization> in its jobs namespace.
  read -r jobs_ns cron < <(kubectl get cronjobs -A -l workpulse.io/tenant-name=e2e-acme --no-headers |
    awk '$2 ~ /^daily-summary-/ {print $1, $2; exit}') || true
  [ -n "${cron:-}" ] || die "no daily-summary CronJob for tenant e2e-acme"

  # Yesterday's activity in the tenant's organization, which its daily summary covers.
  secret=$(kubectl -n "$NS" get workpulsetenant e2e-acme -o 'jsonpath={.status.adminCredentialsSecret.name}')
  [ -n "$secret" ] || die "tenant Ready without status.adminCredentialsSecret"
  admin_email=$(kubectl -n "$NS" get secret "$secret" -o 'jsonpath={.data.email}' | base64 -d)
  admin_pw=$(kubectl -n "$NS" get secret "$secret" -o 'jsonpath={.data.password}' | base64 -d)
  tok=$(post "$AUTH/api/auth/login" - "{\"email\":\"$admin_email\",\"password\":\"$admin_pw\",\"organization_id\":\"$org\"}" | jq -r .access_token)
  y=$(date -u -d yesterday +%F)
  s=$(post "$SESSION/api/sessions/start" "$tok" "{\"start_time\":\"${y}T10:00:00Z\"}" | jq -r .id)
  post "$INGEST/api/sessions/$s/activity" "$tok" "{\"activity_type\":\"active\",\"duration_seconds\":600,\"timestamp\":\"${y}T10:10:00Z\",\"client_activity_id\":\"e2e-y\"}" >/dev/null
  post "$SESSION/api/sessions/$s/stop" "$tok" "{\"end_time\":\"${y}T11:00:00Z\"}" >/dev/null

  step "a Job from $cron writes summary rows"
  rows=0
  for i in 1 2 3; do
    kubectl -n "$jobs_ns" create job "e2e-summary-$i" --from "cronjob/$cron" >/dev/null
    kubectl -n "$jobs_ns" wait --for=condition=Complete "job/e2e-summary-$i" --timeout 120s >/dev/null
    rows=$(psql_node -c "select count(*) from reporting.daily_summaries where organization_id = '$org'")
    [ "$rows" -gt 0 ] && break
    sleep 3 # the session's events may still be on their way to the report service
  done
  [ "$rows" -gt 0 ] || die "the daily-summary Job wrote no rows for $org"
  log "$rows daily summary rows for $org"

  step "kubectl workpulse: the installation's status, its tenants, a tenant manifest"
  (cd "$ROOT" && go build -o "$E2E/plugins/kubectl-workpulse" ./operator/cmd/kubectl-workpulse)
  # As a user runs it: kubectl finds kubectl-workpulse on the PATH, the plugin reads KUBECONFIG.
  kubectl_workpulse() { KUBECONFIG="$KUBECONFIG_ADMIN" PATH="$E2E/plugins:$PATH" "$K8S_BIN/kubectl" workpulse "$@"; }
  status=$(kubectl_workpulse status -n "$NS")
  echo "$status" >&2
  grep -Eq '^Kafka consumer lag \(worst group\): +[0-9]+ events$' <<<"$status" || die "status shows no consumer lag"
  grep -Eq '^Outbox, oldest waiting event: +[0-9.]+ s$' <<<"$status" || die "status shows no outbox age"
  grep -Eq '^Activity storage, months ahead: +[a-z_.]+ [0-9]+' <<<"$status" || die "status shows no storage months ahead"
  ! grep -q '^Metrics not read' <<<"$status" || die "status could not read every pod's metrics"
  tenants=$(kubectl_workpulse tenants -n "$NS")
  echo "$tenants" >&2
  grep -Eq "^$NS +e2e-acme +$NS\.$RELEASE +$org +True " <<<"$tenants" || die "tenants does not show e2e-acme Ready, of installation $NS.$RELEASE"
  beta=$(kubectl_workpulse tenant create e2e-beta -n "$NS" --admin-email admin@e2e-beta.example.com --time-zone Asia/Tokyo)
  grep -q "workpulse.io/installation: $NS.$RELEASE$" <<<"$beta" || die "tenant create did not label e2e-beta for installation $NS.$RELEASE"
  kubectl apply --dry-run=server -f - <<<"$beta" >&2
fi

step "NetworkPolicy: only the release reaches the datastores and the internal ports, only the Ingress controller's namespace the public ones"
run_check "$ROOT/test/e2e/netpol.sh" "$NS" "$RELEASE" "${DATASTORES[@]}"

step "helm test"
# The test pod deletes itself when it passes; a failing one stays for dump_failures.
helm test "$RELEASE" -n "$NS" --timeout 3m | grep -E "TEST SUITE|Phase" >&2

step "helm upgrade of this release under load: every old pod drains, no connection refused or dropped"
# The upgrade from the previous release above replaces pods that stop at once (no drain
# yet) and counts the connections they drop apart. This one replaces pods of this release,
# which fail readiness and keep serving for common.drainSeconds: the agents lose nothing.
"$E2E/loadgen" -loads one-org -agents 4 -c 4 -d "${DRAIN_LOAD_SECONDS}s" -anchors=false -out "" \
  -target "$AUTH/api" -session-url "$SESSION/api" -ingest-url "$INGEST/api" -report-url "$REPORT/api" \
  >"$E2E/drain-load.txt" 2>&1 &
load_pid=$!
sleep 10
upgrade_at=$SECONDS
# shellcheck disable=SC2046
helm upgrade "$RELEASE" $(oci_chart workpulse) -n "$NS" "${chart_values[@]}" \
  --set common.logLevel=info --wait --timeout 5m
upgrade_s=$((SECONDS - upgrade_at))
wait "$load_pid" || { cat "$E2E/drain-load.txt" >&2; die "the load failed"; }
cat "$E2E/drain-load.txt" >&2
load=$(grep '^one-org: ' "$E2E/drain-load.txt")
[ $((upgrade_s + 10)) -lt "$DRAIN_LOAD_SECONDS" ] || die "the upgrade took ${upgrade_s} s, longer than the load"
grep -q '(exact)$' <<<"$load" || die "activity accepted during the upgrade is missing: $load"
grep -q ' ok, 0 errors (0 5xx) ' <<<"$load" || die "refused, dropped or failed requests while the pods drained: $load"
log "upgraded in ${upgrade_s} s under load with every pod drained, nothing refused: ${load#one-org: }"
kubectl -n "$NS" get deployments >&2

if [ -n "${jobs_ns:-}" ]; then
  step "the install-wide idle-detection CronJob runs on its own schedule (every 2 minutes)"
  scheduled_run_ok() { [ -n "$(kubectl -n "$jobs_ns" get cronjob workpulse-idle-detection -o 'jsonpath={.status.lastSuccessfulTime}')" ]; }
  wait_for 150 "a scheduled workpulse-idle-detection Job to succeed" scheduled_run_ok
  kubectl -n "$jobs_ns" get cronjob workpulse-idle-detection >&2
fi

# E2E_SCALE_OUT=0 leaves out the scale-out and second-installation checks (about 2 minutes), for a
# quicker look at the rest.
if [ "${E2E_SCALE_OUT:-1}" = 1 ]; then
  step "scaled out behind the front door: ingest, session and realtime at 2 replicas"
  # The chart's front door (web routing the API, one Ingress rule); the shipped log level.
  scaled_values=(--set common.logLevel=info --set ingress.enabled=true --set ingress.routing=frontDoor)
  for c in ingest session realtime; do scaled_values+=(--set "services.$c.replicaCount=2"); done
  # shellcheck disable=SC2046
  helm upgrade "$RELEASE" $(oci_chart workpulse) -n "$NS" "${chart_values[@]}" "${scaled_values[@]}" --wait --timeout 5m
  kubectl -n "$NS" get deployments,ingress >&2
  run_check "$ROOT/test/e2e/frontdoor.sh" bench "$NS" "$RELEASE" "$E2E/loadgen" "${SCALEOUT_LOAD_SECONDS:-20}"

  step "Socket.IO through the front door to two realtime pods"
  run_check "$ROOT/test/e2e/frontdoor.sh" socketio "$NS" "$RELEASE"

  step "a second installation beside this one: both Ready, nothing crosses between them"
  # Its own namespace, release name and database; the same PostgreSQL server, Redis and Kafka.
  NS2=workpulse-second RELEASE2=second DB2=workpulse_second
  kubectl create namespace "$NS2" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  datastore_services "$NS2" | kubectl apply -f - >/dev/null
  datastores_ready "$NS2"
  datastore_firewall "$NS" "$NS2"
  PGDB=postgres psql_node -c "drop database if exists $DB2" -c "create database $DB2"
  kubectl -n "$NS2" create secret generic workpulse-database \
    --from-literal DATABASE_URL="postgres://postgres@postgres:5432/$DB2?sslmode=disable" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl -n "$NS2" create secret generic workpulse-redis --from-literal REDIS_URL="redis://redis:6379/0" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  # shellcheck disable=SC2046
  helm install "$RELEASE2" $(oci_chart workpulse) -n "$NS2" "${chart_values[@]}" --wait --timeout 5m
  run_check "$ROOT/test/e2e/installations.sh" "postgres://postgres@$NODE_IP:$PG_PORT" "$NS:$RELEASE:workpulse" "$NS2:$RELEASE2:$DB2"
  helm uninstall "$RELEASE2" -n "$NS2" --wait --timeout 3m
  kubectl delete namespace "$NS2" --wait=false >/dev/null
  datastore_firewall "$NS"
else
  skipped+=("scale-out and second installation (E2E_SCALE_OUT=0)")
fi

step "helm rollback to the previous release"
helm rollback "$RELEASE" 1 -n "$NS" --wait --timeout 5m
rolled=$(kubectl -n "$NS" get deployments "${not_relays[@]}" -o json | jq -r '.items[].spec.template.spec.containers[].image' | sort -u)
echo "$rolled" >&2
! grep -qv "^$LOCAL_REGISTRY/previous/" <<<"$rolled" || die "after the rollback not every Deployment runs the previous images"
act=$(post "$INGEST/api/sessions/$sid/activity" "$token" '{"activity_type":"active","duration_seconds":7,"client_activity_id":"e2e-rollback"}')
jq -e '.activity' <<<"$act" >/dev/null || die "activity after the rollback: $act"
log "rolled back to revision 1: every Deployment on the previous images, activity accepted"

step "helm uninstall"
if kubectl get workpulsetenant -n "$NS" e2e-acme >/dev/null 2>&1; then
  # The operator's finalizer needs the operator: delete tenants first.
  kubectl -n "$NS" delete workpulsetenant e2e-acme --timeout 120s
fi
[ -z "${jobs_ns:-}" ] || kubectl -n "$jobs_ns" delete job e2e-summary-1 e2e-summary-2 e2e-summary-3 --ignore-not-found --cascade=foreground --wait >/dev/null
helm uninstall "$RELEASE" -n "$NS" --wait --timeout 3m
leftovers() { kubectl -n "$NS" get deployments,statefulsets,cronjobs,jobs,pods "${not_relays[@]}" -o name 2>/dev/null; }
nothing_left() { [ -z "$(leftovers)" ]; }
# Pods take their grace period (SHUTDOWN_TIMEOUT) to go.
wait_for 90 "the release's workloads to go" nothing_left || die "left after helm uninstall: $(leftovers)"
log "uninstalled cleanly"
