#!/usr/bin/env bash
# A WorkPulse development cluster on kind, for machines with Docker (this repository's CI has
# none: it runs the same chart on the local node of hack/cluster instead; see the README).
#
#   hack/kind-up.sh            create the cluster, install dependencies, the charts, a tenant
#   SKIP_IMAGES=1 hack/kind-up.sh   reuse images already loaded
#
# Steps: kind cluster from kind-config.yaml; ingress-nginx for kind; development PostgreSQL,
# Redis and a single-node Kafka (KRaft) as plain Deployments beside the release, in namespace
# workpulse (no persistence: development only); the Secrets the chart reads; images built with Docker and
# loaded into the nodes; the workpulse-crds and workpulse charts with ci/dev-values.yaml; and
# hack/samples/tenant.yaml. Needs kind, kubectl, helm (hack/helm.sh builds one) and docker.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cluster=${CLUSTER_NAME:-workpulse}
ns=workpulse
version=$(cat VERSION)
helm=${HELM:-$(command -v helm || hack/helm.sh)}
# Public images of the development dependencies (bare names: whatever registry docker uses).
POSTGRES_IMAGE=${POSTGRES_IMAGE:-postgres:17}
REDIS_IMAGE=${REDIS_IMAGE:-redis:7}
KAFKA_IMAGE=${KAFKA_IMAGE:-apache/kafka:4.1.0}
INGRESS_NGINX_VERSION=${INGRESS_NGINX_VERSION:-controller-v1.14.0}

for tool in kind kubectl docker; do
  command -v "$tool" >/dev/null || { echo "kind-up: $tool is required" >&2; exit 1; }
done

if ! kind get clusters | grep -qx "$cluster"; then
  kind create cluster --name "$cluster" --config kind-config.yaml
fi
kubectl config use-context "kind-$cluster" >/dev/null

echo "kind-up: ingress-nginx"
kubectl apply -f "https://raw.githubusercontent.com/kubernetes/ingress-nginx/$INGRESS_NGINX_VERSION/deploy/static/provider/kind/deploy.yaml"

echo "kind-up: PostgreSQL, Redis and Kafka in $ns"
kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f -
kubectl -n "$ns" apply -f - <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: postgres}
spec:
  selector: {matchLabels: {app: postgres}}
  template:
    metadata: {labels: {app: postgres}}
    spec:
      containers:
        - name: postgres
          image: $POSTGRES_IMAGE
          env:
            - {name: POSTGRES_USER, value: workpulse}
            - {name: POSTGRES_PASSWORD, value: workpulse}
            - {name: POSTGRES_DB, value: workpulse}
          ports: [{containerPort: 5432}]
          readinessProbe: {exec: {command: [pg_isready, -U, workpulse]}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: postgres}
spec: {selector: {app: postgres}, ports: [{port: 5432}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: redis}
spec:
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      containers:
        - name: redis
          image: $REDIS_IMAGE
          ports: [{containerPort: 6379}]
          readinessProbe: {exec: {command: [redis-cli, ping]}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: redis}
spec: {selector: {app: redis}, ports: [{port: 6379}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: kafka}
spec:
  selector: {matchLabels: {app: kafka}}
  template:
    metadata: {labels: {app: kafka}}
    spec:
      enableServiceLinks: false
      containers:
        - name: kafka
          image: $KAFKA_IMAGE
          env:
            - {name: KAFKA_NODE_ID, value: "1"}
            - {name: KAFKA_PROCESS_ROLES, value: "broker,controller"}
            - {name: KAFKA_LISTENERS, value: "PLAINTEXT://:9092,CONTROLLER://:9093"}
            - {name: KAFKA_ADVERTISED_LISTENERS, value: "PLAINTEXT://kafka:9092"}
            - {name: KAFKA_CONTROLLER_LISTENER_NAMES, value: CONTROLLER}
            - {name: KAFKA_LISTENER_SECURITY_PROTOCOL_MAP, value: "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"}
            - {name: KAFKA_CONTROLLER_QUORUM_VOTERS, value: "1@localhost:9093"}
            - {name: KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR, value: "1"}
            - {name: KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR, value: "1"}
            - {name: KAFKA_TRANSACTION_STATE_LOG_MIN_ISR, value: "1"}
          ports: [{containerPort: 9092}]
          readinessProbe: {tcpSocket: {port: 9092}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: kafka}
spec: {selector: {app: kafka}, ports: [{port: 9092}]}
YAML
for dep in postgres redis kafka; do kubectl -n "$ns" rollout status "deploy/$dep" --timeout=5m; done

echo "kind-up: the Secrets the chart reads"
kubectl -n "$ns" create secret generic workpulse-database \
  --from-literal=DATABASE_URL="postgres://workpulse:workpulse@postgres:5432/workpulse?sslmode=disable" \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl -n "$ns" create secret generic workpulse-redis \
  --from-literal=REDIS_URL="redis://redis:6379/0" --dry-run=client -o yaml | kubectl apply -f -

if [ -z "${SKIP_IMAGES:-}" ]; then
  echo "kind-up: images $version"
  for name in auth session ingest report realtime web operator migrate; do
    docker build -q -f hack/images/Dockerfile --build-arg IMAGE="$name" -t "workpulse/$name:$version" .
    kind load docker-image --name "$cluster" "workpulse/$name:$version"
  done
fi

echo "kind-up: charts"
kubectl -n ingress-nginx rollout status deploy/ingress-nginx-controller --timeout=5m
"$helm" upgrade --install workpulse-crds charts/workpulse-crds -n "$ns" --wait
"$helm" upgrade --install workpulse charts/workpulse -n "$ns" -f charts/workpulse/ci/dev-values.yaml \
  --set tests.image.repository=busybox --set tests.image.tag=1.37 \
  --wait --timeout 10m

echo "kind-up: sample tenant"
kubectl apply -f hack/samples/tenant.yaml
kubectl -n acme wait workpulsetenant/acme --for=condition=Ready --timeout=3m || \
  kubectl -n acme describe workpulsetenant/acme

"$helm" test workpulse -n "$ns" --logs || true
cat <<EOF2
kind-up: done. The API is on http://localhost/api (curl -s localhost/api/auth/.well-known/jwks.json);
tenants: kubectl get wpt -A; remove everything: kind delete cluster --name $cluster
EOF2
