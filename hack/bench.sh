#!/usr/bin/env bash
# make bench: every benchmark. tracking rewrites its section of docs/benchmarks.md; the others
# print their figures (and fail on a missed target where they say so), recorded there by hand.
#
#   tracking  four loads through make dev's front door (hack/loadgen): one organization, 64
#             organizations, one session, bulk; with the stack's CPU per post and the PostgreSQL
#             anchors. Starts its own stack on :3000 (which must be free); BENCH_SECONDS per load,
#             BENCH_NOTE a sentence about the conditions, written with the results;
#             BENCH_LOADGEN_ARGS more flags of hack/loadgen (e.g. -loads one-org -anchors=false -out=)
#   reports   daily-summary over 2.88 M activities and the 30-day organization report (~4 min)
#   realtime  10,000 WebSockets on one process and 1,000 events/s (~1 min)
#   operator  200 tenants to Ready and a second pass that changes nothing (~2 min)
#   locks     single and bulk posts into an organization without and with locked days (~1 min)
#
# Name some to run only those: hack/bench.sh tracking realtime
set -euo pipefail
cd "$(dirname "$0")/.."
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(tracking reports realtime operator locks)

stack_pid=""
cleanup() {
  if [ -n "$stack_pid" ]; then
    kill -INT -- "-$stack_pid" 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
    # The benchmark's data is of no further use; the next run starts afresh.
    psql "$WORKPULSE_PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS workpulse_bench WITH (FORCE)" 2>/dev/null || true
  fi
}
trap cleanup EXIT

healthy() { curl -fs -o /dev/null --max-time 3 http://localhost:3000/api/health; }

# tracking measures a stack of its own, so that it knows which processes to count: make dev as it
# ships (default log level) on a fresh database, started in a session of its own (setsid) whose
# processes hack/loadgen's CPU meter sums. It runs under with-deps.sh (tracking_run), so the stack,
# the anchors and the CPU meter see the same PostgreSQL.
tracking() { WITH_DEPS_REDIS_OPTIONAL=1 hack/with-deps.sh "$PWD/hack/bench.sh" _tracking_run; }

tracking_run() {
  if healthy; then
    echo "bench: something already answers on http://localhost:3000: stop it (make bench measures a stack it starts)" >&2
    exit 1
  fi
  if ! command -v pgbench >/dev/null; then
    echo "bench: installing pgbench (postgresql-contrib) for the anchor" >&2
    sudo=(); [ "$(id -u)" = 0 ] || sudo=(sudo)
    "${sudo[@]}" apt-get install -y postgresql-contrib >&2
  fi
  db=workpulse_bench
  psql "$WORKPULSE_PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  echo "bench: starting the local stack (make dev, default log level) on a fresh database $db" >&2
  mkdir -p .dev
  go build -o bin/devstack ./hack/devstack
  DEV_DATABASE=$db setsid bin/devstack >.dev/bench-stack.log 2>&1 &
  stack_pid=$!
  for _ in $(seq 600); do healthy && break; sleep 0.5; done
  healthy || { echo "bench: the stack did not come up; see .dev/bench-stack.log" >&2; exit 1; }
  sid=$(ps -o sid= -p "$stack_pid" | tr -d ' ')
  go run ./hack/loadgen -target http://localhost:3000/api -d "${BENCH_SECONDS:-30}s" \
    -stack-sid "$sid" -stack-db "$db" -pg-url "$WORKPULSE_PG_ADMIN_URL" -out docs/benchmarks.md \
    ${BENCH_LOADGEN_ARGS:-} -note "${BENCH_NOTE:+$BENCH_NOTE }Stack log: .dev/bench-stack.log. Earlier runs, the bulk concurrency sweep and where the time goes: docs/tracking-data.md, Performance."
}

for b in "${benches[@]}"; do
  echo "== bench: $b" >&2
  case "$b" in
    tracking) tracking ;;
    _tracking_run) tracking_run ;;
    reports) hack/with-deps.sh go test ./services/report/internal/report -run '^$' -bench . -benchtime 1x -timeout 30m ;;
    realtime) WORKPULSE_BENCH=1 hack/with-deps.sh go test ./services/realtime/bench -run TestLoad -v -count=1 -timeout 15m ;;
    operator) hack/with-deps.sh go test ./operator/internal/controller -run '^$' -bench TwoHundredTenants -benchtime 1x -timeout 20m ;;
    locks) hack/with-deps.sh go test ./services/ingest/internal/ingest -run '^$' -bench PostingIntoAnOrganizationWithLockedDays -benchtime 500x -count 3 -timeout 15m ;;
    *) echo "bench: unknown benchmark $b (tracking, reports, realtime, operator, locks)" >&2; exit 2 ;;
  esac
done
