#!/usr/bin/env bash
# make e2e's two-installations step: two releases of the chart in their own namespaces, each
# with its own database on one PostgreSQL server, sharing one Redis and one Kafka broker (the
# chart gives a new installation topic and key prefixes of its own; the first one, installed by
# an older chart, kept the unprefixed names on upgrade):
#
#   test/e2e/installations.sh <PostgreSQL server URL> <namespace>:<release>:<database> <namespace>:<release>:<database>
#
# Checked: every Deployment of both is Ready; their Kafka topic prefixes and Redis prefixes
# differ; an organization registered in each, with a session and a post, reaches its own
# installation's report (its member in reporting.users, through Kafka) and leaves no row in any
# table of the other's database; a WorkPulseTenant labelled for one installation is made Ready
# by that one's operator, with its organization in that one's database only, and the other
# operator leaves it alone.
set -euo pipefail
source "$(dirname "$0")/../../hack/cluster/lib.sh"

[ $# = 3 ] || die "usage: $0 <PostgreSQL server URL> <namespace>:<release>:<database> <namespace>:<release>:<database>"
PG=$1
declare -A NS REL DB
IFS=: read -r NS[a] REL[a] DB[a] <<<"$2"
IFS=: read -r NS[b] REL[b] DB[b] <<<"$3"
t0=$SECONDS
other() { [ "$1" = a ] && echo b || echo a; }
sql() { psql "$PG/${DB[$1]}?sslmode=disable" -qAtX -c "$2"; }
# A component's objects, found by the chart's labels (their names depend on the release's name).
of() { kubectl -n "${NS[$1]}" get "$2" -l "app.kubernetes.io/instance=${REL[$1]},app.kubernetes.io/component=$3" -o json; }
svc() { echo "http://$(of "$1" services "$2" | jq -r '.items[] | select(.spec.clusterIP != "None") | "\(.spec.clusterIP):\(.spec.ports[] | select(.name == "http") | .port)"')/api"; }
call() { # call <url> <token or -> <json>
  local auth=()
  [ "$2" = - ] || auth=(-H "Authorization: Bearer $2")
  curl -sS --fail-with-body -m 15 -H 'content-type: application/json' "${auth[@]}" -d "$3" "$1"
}
env_of() { # env_of <installation> <component> <variable>: its value in the component's Deployment ("" when unset)
  of "$1" deployments "$2" | jq -r --arg n "$3" '[.items[0].spec.template.spec.containers[0].env[] | select(.name == $n) | .value][0] // ""'
}
# rows_naming <installation> <organization id>: the rows of its database that belong to the
# organization, every table with an organization_id and the organization itself, as "table count".
rows_naming() {
  local q
  q=$(sql "$1" "select string_agg(format('select %L, count(*) from %I.%I where organization_id = %L', table_schema || '.' || table_name, table_schema, table_name, '$2'), ' union all ')
    from information_schema.columns c join pg_class k on k.oid = format('%I.%I', table_schema, table_name)::regclass
    where column_name = 'organization_id' and table_schema in ('auth', 'tracking', 'reporting', 'realtime') and k.relkind in ('r', 'p') and not k.relispartition")
  sql "$1" "select * from ($q union all select 'auth.organizations', count(*) from auth.organizations where id = '$2') r where count > 0"
}

for i in a b; do
  for d in $(kubectl -n "${NS[$i]}" get deployments -l "app.kubernetes.io/instance=${REL[$i]}" -o name); do
    kubectl -n "${NS[$i]}" rollout status "$d" --timeout 180s >/dev/null || die "${NS[$i]}/${REL[$i]}: $d not Ready"
  done
done
declare -A TOPICS KEYS INSTALLATION
for i in a b; do
  TOPICS[$i]=$(env_of "$i" auth KAFKA_TOPIC_PREFIX) KEYS[$i]=$(env_of "$i" auth REDIS_PREFIX)
  INSTALLATION[$i]=$(env_of "$i" operator INSTALLATION)
done
[ "${INSTALLATION[a]}" != "${INSTALLATION[b]}" ] || die "both operators are installation '${INSTALLATION[a]}'"
[ "${TOPICS[a]}" != "${TOPICS[b]}" ] || die "both installations use the Kafka topic prefix '${TOPICS[a]}'"
[ "${KEYS[a]}" != "${KEYS[b]}" ] || die "both installations use the Redis prefix '${KEYS[a]}'"
log "installations: both Ready; Kafka topic prefixes '${TOPICS[a]}' and '${TOPICS[b]}', Redis prefixes '${KEYS[a]}' and '${KEYS[b]}'"

# One organization in each, registered, tracking and posting at once.
declare -A ORG USER
for i in a b; do
  reg=$(call "$(svc "$i" auth)/auth/register" - "{\"email\":\"two-$i-$(date +%s%N)@example.com\",\"password\":\"correct horse\",\"name\":\"Two $i\",\"organization_name\":\"Installation $i\"}")
  ORG[$i]=$(jq -r .organization.id <<<"$reg") USER[$i]=$(jq -r .user.id <<<"$reg")
  token=$(jq -r .access_token <<<"$reg")
  sid=$(call "$(svc "$i" session)/sessions/start" "$token" '{}' | jq -r .id)
  call "$(svc "$i" ingest)/sessions/$sid/activity" "$token" "{\"activity_type\":\"active\",\"duration_seconds\":30,\"client_activity_id\":\"two-$i\"}" >/dev/null
done
reached_report() { [ "$(sql "$1" "select count(*) from reporting.users where user_id = '${USER[$1]}'")" = 1 ]; }
for i in a b; do
  wait_for 60 "${NS[$i]}'s report to learn of its new member" reached_report "$i" ||
    die "the member registered in ${NS[$i]} never reached its own report"
done
# Each installation's events reached its own report; one read by the other would have been
# applied by now too, as the same broker serves both.
sleep 3
for i in a b; do
  o=$(other "$i")
  crossed=$(rows_naming "$o" "${ORG[$i]}")
  [ -z "$crossed" ] || die "rows of ${NS[$i]}'s organization ${ORG[$i]} in ${NS[$o]}'s database: $crossed"
done
log "installations: an organization in each reached its own report and left no row in the other's database"

# A tenant for installation b: b's operator makes it Ready, a's leaves it alone.
installation_b=${INSTALLATION[b]}
cat <<EOF | kubectl apply -f - >/dev/null
apiVersion: workpulse.io/v1alpha1
kind: WorkPulseTenant
metadata: {name: e2e-second, namespace: ${NS[b]}, labels: {workpulse.io/installation: "$installation_b"}}
spec:
  displayName: E2E Second
  plan: pro
  timeZone: UTC
  storage: Shared
  deletionPolicy: Delete
  admin: {email: admin@e2e-second.example.com, name: E2E Second Admin}
EOF
kubectl -n "${NS[b]}" wait --for=condition=Ready workpulsetenant/e2e-second --timeout 180s >/dev/null ||
  die "the tenant of ${NS[b]} did not become Ready"
org=$(kubectl -n "${NS[b]}" get workpulsetenant e2e-second -o 'jsonpath={.status.organizationID}')
[ "$(sql b "select count(*) from auth.organizations where id = '$org'")" = 1 ] || die "tenant e2e-second's organization $org is not in ${NS[b]}'s database"
crossed=$(rows_naming a "$org")
[ -z "$crossed" ] || die "rows of ${NS[b]}'s tenant e2e-second in ${NS[a]}'s database: $crossed"
label=$(kubectl -n "${NS[b]}" get workpulsetenant e2e-second -o 'jsonpath={.metadata.labels.workpulse\.io/installation}')
[ "$label" = "$installation_b" ] || die "tenant e2e-second is labelled for '$label', not $installation_b"
# b's operator, watching every namespace as a's does, claimed none of a's tenants either.
foreign=$(kubectl -n "${NS[a]}" get workpulsetenants -o json |
  jq -r --arg a "${INSTALLATION[a]}" '.items[] | select(.metadata.labels["workpulse.io/installation"] != $a) | .metadata.name')
[ -z "$foreign" ] || die "tenants of ${NS[a]} not labelled for ${INSTALLATION[a]}: $foreign"
kubectl -n "${NS[b]}" delete workpulsetenant e2e-second --timeout 120s >/dev/null
log "installations: tenant e2e-second Ready through ${NS[b]}'s operator alone, organization $org in its database only ($((SECONDS - t0)) s)"
