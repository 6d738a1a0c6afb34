#!/usr/bin/env bash
# make bench: every benchmark. tracking rewrites its section of docs/benchmarks.md; the others
# print their figures (and fail on a missed target where they say so), recorded there by hand.
#
#   tracking  single and bulk activity through make dev's front door (hack/loadgen); uses the
#             stack on http://localhost:3000 when one answers, otherwise starts one here
#   reports   daily-summary over 2.88 M activities and the 30-day organization report (~4 min)
#   realtime  10,000 WebSockets on one process and 1,000 events/s (~1 min)
#   operator  200 tenants to Ready and a second pass that changes nothing (~2 min)
#
# Name some to run only those: hack/bench.sh tracking realtime
set -euo pipefail
cd "$(dirname "$0")/.."
benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(tracking reports realtime operator)

stack_pid=""
cleanup() {
  if [ -n "$stack_pid" ]; then
    kill -INT -- "-$stack_pid" 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

healthy() { curl -fs -o /dev/null --max-time 3 http://localhost:3000/api/health; }

tracking() {
  if ! healthy; then
    echo "bench: starting the local stack (make dev) with LOG_LEVEL=warn" >&2
    mkdir -p .dev
    go build -o bin/devstack ./hack/devstack
    LOG_LEVEL=warn WITH_DEPS_REDIS_OPTIONAL=1 setsid hack/with-deps.sh bin/devstack >.dev/bench-stack.log 2>&1 &
    stack_pid=$!
    for _ in $(seq 600); do healthy && break; sleep 0.5; done
    healthy || { echo "bench: the stack did not come up; see .dev/bench-stack.log" >&2; exit 1; }
  fi
  # Eight uploaders sync offline batches at once, as a team's agents reconnecting would.
  go run ./hack/loadgen -target http://localhost:3000/api -bulk-c 8 -out docs/benchmarks.md \
    -note "Command: make bench (hack/bench.sh tracking). Earlier runs, the bulk concurrency sweep and where the time goes: docs/tracking-data.md, Performance."
}

for b in "${benches[@]}"; do
  echo "== bench: $b" >&2
  case "$b" in
    tracking) tracking ;;
    reports) hack/with-deps.sh go test ./services/report/internal/report -run '^$' -bench . -benchtime 1x -timeout 30m ;;
    realtime) WORKPULSE_BENCH=1 hack/with-deps.sh go test ./services/realtime/bench -run TestLoad -v -count=1 -timeout 15m ;;
    operator) hack/with-deps.sh go test ./operator/internal/controller -run '^$' -bench TwoHundredTenants -benchtime 1x -timeout 20m ;;
    *) echo "bench: unknown benchmark $b (tracking, reports, realtime, operator)" >&2; exit 2 ;;
  esac
done
