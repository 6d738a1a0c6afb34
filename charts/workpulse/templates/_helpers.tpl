{{/* The chart name. */}}
{{- define "workpulse.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every resource name. */}}
{{- define "workpulse.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "workpulse.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "workpulse.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: workpulse
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "auth"). */}}
{{- define "workpulse.selectorLabels" -}}
app.kubernetes.io/name: {{ include "workpulse.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* All labels of one component. */}}
{{- define "workpulse.componentLabels" -}}
{{ include "workpulse.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The image of a component: (dict "root" $ "component" "auth" "image" .image). It must match
what hack/images and hack/images/Dockerfile build, workpulse/<component>:<appVersion>, or what
make release pushed: <image.registry>/<component>, by digest when image.digests names one. */}}
{{- define "workpulse.image" -}}
{{- $img := .image | default dict }}
{{- $all := .root.Values.image }}
{{- $repo := $img.repository | default (printf "%s/%s" ($all.registry | default "workpulse") .component) }}
{{- with get ($all.digests | default dict) .component }}
{{- printf "%s@%s" $repo . }}
{{- else }}
{{- $tag := $img.tag | default $all.tag | default .root.Chart.AppVersion }}
{{- printf "%s:%s" $repo $tag }}
{{- end }}
{{- end }}

{{/* Base URL of auth inside the cluster. */}}
{{- define "workpulse.authURL" -}}
{{- .Values.authInternalURL | default (printf "http://%s-auth:%d" (include "workpulse.fullname" .) (int .Values.services.auth.port)) | trimSuffix "/" }}
{{- end }}

{{/* Auth's internal tenant API, the operator's: its own port when it has one. */}}
{{- define "workpulse.authTenantAPIURL" -}}
{{- with .Values.services.auth.tenantAPIPort }}
{{- printf "http://%s-auth:%d" (include "workpulse.fullname" $) (int .) }}
{{- else }}
{{- include "workpulse.authURL" . }}
{{- end }}
{{- end }}

{{/* /readyz of every service but auth, which answers /api/health for all of them. */}}
{{- define "workpulse.healthPeers" -}}
{{- $fullname := include "workpulse.fullname" . -}}
{{- $peers := list -}}
{{- range $name, $svc := .Values.services -}}
{{- if ne $name "auth" -}}
{{- $peers = append $peers (printf "%s=http://%s-%s:%d/readyz" $name $fullname $name (int $.Values.common.internalPort)) -}}
{{- end -}}
{{- end -}}
{{- join "," $peers -}}
{{- end }}

{{/* The Ingress's routing, "frontDoor" or "nginx": ingress.routing, or, unset, what the
installation runs, so that an upgrade never swaps the Ingresses of an installation made when nginx
was the default for one rule its controller or NetworkPolicy may not serve; a new installation gets
the front door. */}}
{{- define "workpulse.ingressRouting" -}}
{{- $routing := .Values.ingress.routing }}
{{- if not $routing }}
{{- $routing = "frontDoor" }}
{{- if lookup "networking.k8s.io/v1" "Ingress" .Release.Namespace (printf "%s-api" (include "workpulse.fullname" .)) }}
{{- $routing = "nginx" }}
{{- end }}
{{- end }}
{{- $routing }}
{{- end }}

{{/* The IngressClass of the Ingresses, "" for the cluster's default: ingress.className, or the
class of the Ingress the installation runs (an older chart defaulted to "nginx" whatever the
routing), or "nginx", which the regex paths need. */}}
{{- define "workpulse.ingressClass" -}}
{{- $routing := include "workpulse.ingressRouting" . }}
{{- $class := .Values.ingress.className }}
{{- if not $class }}
{{- $name := printf "%s%s" (include "workpulse.fullname" .) (ternary "-api" "" (eq $routing "nginx")) }}
{{- with lookup "networking.k8s.io/v1" "Ingress" .Release.Namespace $name }}
{{- $class = .spec.ingressClassName | default "" }}
{{- end }}
{{- end }}
{{- if and (not $class) (eq $routing "nginx") }}
{{- $class = "nginx" }}
{{- end }}
{{- $class }}
{{- end }}

{{/* "true" when the web service is the front door: an Ingress in frontDoor routing or the HTTPRoute sends it every path. */}}
{{- define "workpulse.frontDoor" -}}
{{- if or .Values.gateway.enabled (and .Values.ingress.enabled (eq (include "workpulse.ingressRouting" .) "frontDoor")) }}true{{ end -}}
{{- end }}

{{/* FRONT_DOOR_BACKENDS of the web service: every other service's API port, "name=url,...". */}}
{{- define "workpulse.frontDoorBackends" -}}
{{- $fullname := include "workpulse.fullname" . -}}
{{- $backends := list -}}
{{- range $name, $svc := .Values.services -}}
{{- if ne $name "web" -}}
{{- $backends = append $backends (printf "%s=http://%s-%s:%d" $name $fullname $name (int $svc.port)) -}}
{{- end -}}
{{- end -}}
{{- join "," $backends -}}
{{- end }}

{{/* "true" when the front door pins Socket.IO sessions to realtime pods, which the headless
realtime Service lists. */}}
{{- define "workpulse.frontDoorAffinity" -}}
{{- if and (include "workpulse.frontDoor" .) .Values.services.web.socketIOAffinity (hasKey .Values.services "realtime") }}true{{ end -}}
{{- end }}

{{/* Name of the Secret holding the operator token. */}}
{{- define "workpulse.signingKeySecret" -}}
{{- .Values.services.auth.signingKeySecret | default (printf "%s-signing-key-encryption" (include "workpulse.fullname" .)) }}
{{- end }}

{{- define "workpulse.operatorTokenSecret" -}}
{{- .Values.operator.tokenSecret | default (printf "%s-operator-token" (include "workpulse.fullname" .)) }}
{{- end }}

{{/* The deployables that log in to PostgreSQL, each as its own role (migrations/roles.Services). */}}
{{- define "workpulse.dbServices" -}}auth session ingest report realtime operator{{- end }}

{{/* The prefix of the services' login roles: roles belong to the whole PostgreSQL cluster, so
two installations on one cluster (other namespaces or releases) must not share their names. The
default is wp_<namespace>_<release> (lower case, - and . as _), cut to 31 characters, then _ and
8 hex digits of the SHA-256 of <namespace>/<release>: the readable part alone can be equal for
two installations (a cut long name; namespace a-b release c beside namespace a release b-c). An
installation keeps the prefix its auth role Secret names, so that an upgrade never renames its
roles (an older chart's default had no digest). */}}
{{- define "workpulse.dbRolePrefix" -}}
{{- $readable := printf "wp_%s_%s" .Release.Namespace .Release.Name | lower | replace "-" "_" | replace "." "_" | trunc 31 | trimSuffix "_" }}
{{- $default := printf "%s_%s" $readable (printf "%s/%s" .Release.Namespace .Release.Name | sha256sum | trunc 8) }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "workpulse.dbRoleSecret" (dict "root" . "name" "auth")) }}
{{- if and $existing $existing.data $existing.data.username }}
{{- $default = $existing.data.username | b64dec | trimSuffix "_auth" }}
{{- end }}
{{- $p := .Values.database.roles.prefix | default $default }}
{{- if not (regexMatch "^[a-z][a-z0-9_]{0,39}$" $p) }}
{{- fail (printf "database.roles.prefix %q: 1-40 characters of a-z, 0-9 and _, starting with a letter" $p) }}
{{- end }}
{{- $p }}
{{- end }}

{{/* What the installation's auth Deployment, as it runs now, sets the env var .env to, as JSON:
{"found": true, "set": true, "value": "..."}; {} without that Deployment (a new installation, or a
render without a cluster). (dict "root" $ "env" "KAFKA_TOPIC_PREFIX") */}}
{{- define "workpulse.deployedEnv" -}}
{{- $out := dict }}
{{- with lookup "apps/v1" "Deployment" .root.Release.Namespace (printf "%s-auth" (include "workpulse.fullname" .root)) }}
{{- $_ := set $out "found" true }}
{{- range $c := .spec.template.spec.containers }}
{{- range $e := $c.env | default list }}
{{- if eq $e.name $.env }}
{{- $_ := set $out "set" true }}
{{- $_ := set $out "value" ($e.value | default "") }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson $out }}
{{- end }}

{{/* The prefix of the installation's Kafka topics and consumer groups (KAFKA_TOPIC_PREFIX), so
that two installations on one Kafka cluster never read each other's events: kafka.topicPrefix when
set ("" too), else the prefix the installation runs with, so that an upgrade never moves its topics
(events waiting in the old ones would be left behind). An installation made by a chart without the
setting runs with none: it keeps the topic names it has (workpulse.activity.v1, ...). A new one gets
<namespace>.<release>. (a namespace has no dot, so no two installations get one prefix). */}}
{{- define "workpulse.kafkaTopicPrefix" -}}
{{- $p := .Values.kafka.topicPrefix }}
{{- if not (kindIs "string" $p) }}
{{- $d := include "workpulse.deployedEnv" (dict "root" . "env" "KAFKA_TOPIC_PREFIX") | fromJson }}
{{- if $d.set }}
{{- $p = $d.value }}
{{- else if $d.found }}
{{- $p = "" }}
{{- else }}
{{- $p = printf "%s.%s." .Release.Namespace .Release.Name }}
{{- end }}
{{- end }}
{{- if not (regexMatch "^[a-zA-Z0-9._-]{0,200}$" $p) }}
{{- fail (printf "kafka.topicPrefix %q: at most 200 characters of letters, digits, '.', '_' and '-' (what Kafka allows in a topic name)" $p) }}
{{- end }}
{{- $p }}
{{- end }}

{{/* The prefix of the installation's Redis keys and channels (REDIS_PREFIX), likewise:
redis.prefix when set, else the prefix the installation runs with (an older chart's default was
wp), else wp:<namespace>:<release> for a new installation. */}}
{{- define "workpulse.redisPrefix" -}}
{{- $p := .Values.redis.prefix }}
{{- if not $p }}
{{- $d := include "workpulse.deployedEnv" (dict "root" . "env" "REDIS_PREFIX") | fromJson }}
{{- if $d.value }}
{{- $p = $d.value }}
{{- else if $d.found }}
{{- $p = "wp" }}
{{- else }}
{{- $p = printf "wp:%s:%s" .Release.Namespace .Release.Name }}
{{- end }}
{{- end }}
{{- $p }}
{{- end }}

{{/* The installation's name on its WorkPulseTenants (label workpulse.io/installation): its operator
reconciles the tenants labelled with it and claims those without the label, so that two operators
watching one namespace never both provision a tenant. <namespace>.<release>, unique in the cluster
(a namespace has no dot); past the 63 characters of a label value, its first 54 then - and 8 hex
digits of its SHA-256. */}}
{{- define "workpulse.installation" -}}
{{- $n := printf "%s.%s" .Release.Namespace .Release.Name }}
{{- if gt (len $n) 63 }}
{{- $n = printf "%s-%s" ($n | trunc 54) ($n | sha256sum | trunc 8) }}
{{- end }}
{{- $n }}
{{- end }}

{{/* The Secret holding a service's database password: (dict "root" $ "name" "auth"). */}}
{{- define "workpulse.dbRoleSecret" -}}
{{- printf "%s-db-%s" (include "workpulse.fullname" .root) .name }}
{{- end }}

{{/* The env vars a service (or the operator) logs in to PostgreSQL with, as its own role, from
its own Secret: (dict "root" $ "name" "auth"). No pod but the migrations Job's holds the owner's
connection string. */}}
{{- define "workpulse.env.serviceDatabase" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "workpulse.dbRoleSecret" . }}
      key: DATABASE_URL
- name: DATABASE_USER
  value: {{ printf "%s_%s" (include "workpulse.dbRolePrefix" .root) .name | quote }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "workpulse.dbRoleSecret" . }}
      key: password
{{- end }}

{{/* The services' connection string without user and password: database.serviceURL, or else the
owner's connection string (read from its Secret at install) without its user and password. Empty
when neither is known (a render without a cluster, such as helm template). */}}
{{- define "workpulse.serviceDatabaseURL" -}}
{{- if .Values.database.serviceURL }}
{{- .Values.database.serviceURL }}
{{- else }}
{{- $owner := lookup "v1" "Secret" .Release.Namespace .Values.database.existingSecret }}
{{- $raw := "" }}
{{- if and $owner $owner.data (hasKey $owner.data .Values.database.urlKey) }}
{{- $raw = index $owner.data .Values.database.urlKey | b64dec }}
{{- end }}
{{- if $raw }}
{{- $u := urlParse $raw }}
{{- if regexMatch "(^|&)(user|password|passfile)=" $u.query }}
{{- fail (printf "the connection string in Secret %s carries credentials in its parameters: set database.serviceURL" .Values.database.existingSecret) }}
{{- end }}
{{- urlJoin (dict "scheme" $u.scheme "host" $u.host "path" $u.path "query" $u.query) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The DATABASE_URL env var: the owner's connection string, for the migrations Job alone. */}}
{{- define "workpulse.env.database" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret is required" .Values.database.existingSecret }}
      key: {{ .Values.database.urlKey }}
{{- end }}

{{/* Env vars of the HTTP server every service runs (platform/config.LoadCommon): (dict "root" $ "svc" .Values.services.auth).
The web service, which connects to nothing, gets only these. */}}
{{- /* The Go runtime's soft memory limit from the container's limit, so that the
collector works harder before the kernel kills the pod (and auth sizes its password
hashing to it). */}}
{{- define "workpulse.env.gomemlimit" -}}
- name: GOMEMLIMIT
  valueFrom:
    resourceFieldRef: {resource: limits.memory}
{{- end }}

{{- define "workpulse.env.http" -}}
{{- $v := .root.Values }}
- name: HTTP_ADDR
  value: {{ printf ":%d" (int .svc.port) | quote }}
- name: INTERNAL_HTTP_ADDR
  value: {{ printf ":%d" (int $v.common.internalPort) | quote }}
- name: LOG_LEVEL
  value: {{ $v.common.logLevel | quote }}
- name: MAX_BODY_BYTES
  value: {{ $v.common.maxBodyBytes | int64 | quote }}
- name: DRAIN_DELAY
  value: {{ printf "%ds" (int $v.common.drainSeconds) | quote }}
- name: SHUTDOWN_TIMEOUT
  value: {{ printf "%ds" (int $v.common.shutdownTimeoutSeconds) | quote }}
- name: HTTP_WRITE_TIMEOUT
  value: {{ $v.common.httpWriteTimeout | quote }}
- name: API_ENVELOPE
  value: {{ $v.common.apiEnvelope | quote }}
- name: CORS_ALLOWED_ORIGINS
  value: {{ join "," $v.cors.allowedOrigins | quote }}
{{- end }}

{{/* Env vars every service with dependencies reads (platform/config.LoadCommon): (dict "root" $ "name" "auth" "svc" .Values.services.auth). */}}
{{- define "workpulse.env.common" -}}
{{- $v := .root.Values }}
{{ include "workpulse.env.http" . }}
{{ include "workpulse.env.serviceDatabase" (dict "root" .root "name" .name) }}
- name: DATABASE_MAX_CONNS
  value: {{ $v.database.maxConns | quote }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "redis.existingSecret is required" $v.redis.existingSecret }}
      key: {{ $v.redis.urlKey }}
- name: REDIS_PREFIX
  value: {{ include "workpulse.redisPrefix" .root | quote }}
- name: KAFKA_BROKERS
{{- if $v.kafka.existingSecret }}
  valueFrom:
    secretKeyRef:
      name: {{ $v.kafka.existingSecret }}
      key: {{ $v.kafka.brokersKey }}
{{- else }}
  value: {{ required "kafka.brokers or kafka.existingSecret is required" $v.kafka.brokers | quote }}
{{- end }}
- name: KAFKA_TOPIC_PREFIX
  value: {{ include "workpulse.kafkaTopicPrefix" .root | quote }}
- name: KAFKA_TOPIC_PARTITIONS
  value: {{ $v.kafka.topicPartitions | quote }}
- name: KAFKA_MAX_ATTEMPTS
  value: {{ $v.kafka.maxAttempts | quote }}
- name: KAFKA_TLS
  value: {{ $v.kafka.tls | quote }}
{{- with $v.kafka.sasl }}
{{- if .mechanism }}
- name: KAFKA_SASL_MECHANISM
  value: {{ .mechanism | quote }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ required "kafka.sasl.existingSecret is required with a SASL mechanism" .existingSecret }}
      key: {{ .usernameKey }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .passwordKey }}
{{- end }}
{{- end }}
- name: JWKS_URL
  value: {{ printf "%s/api/auth/.well-known/jwks.json" (include "workpulse.authURL" .root) | quote }}
- name: JWT_ISSUER
  value: {{ $v.common.jwtIssuer | quote }}
{{- with $v.common.legacyJwtSecret.existingSecret }}
- name: LEGACY_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $v.common.legacyJwtSecret.key }}
{{- end }}
{{- include "workpulse.env.ca" .root }}
{{- end }}

{{/* SSL_CERT_FILE when an extra CA is mounted. */}}
{{- define "workpulse.env.ca" -}}
{{- if .Values.extraCA.existingSecret }}
- name: SSL_CERT_FILE
  value: /etc/workpulse/ca/{{ .Values.extraCA.key }}
{{- end }}
{{- end }}

{{/* Extra env from a name: value map, sorted. */}}
{{- define "workpulse.env.extra" -}}
{{- range $k, $val := . }}
- name: {{ $k }}
  value: {{ $val | toString | quote }}
{{- end }}
{{- end }}

{{/* Volumes of a pod that talks to the dependencies: a writable /tmp, TLS files, extra CA. */}}
{{- define "workpulse.volumes" -}}
- name: tmp
  emptyDir: {sizeLimit: 64Mi}
{{- if .Values.database.tls.existingSecret }}
- name: postgres-tls
  secret:
    secretName: {{ .Values.database.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- if .Values.extraCA.existingSecret }}
- name: extra-ca
  secret:
    secretName: {{ .Values.extraCA.existingSecret }}
{{- end }}
{{- end }}

{{- define "workpulse.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.database.tls.existingSecret }}
- name: postgres-tls
  mountPath: /etc/workpulse/tls/postgres
  readOnly: true
{{- end }}
{{- if .Values.extraCA.existingSecret }}
- name: extra-ca
  mountPath: /etc/workpulse/ca
  readOnly: true
{{- end }}
{{- end }}

{{/* Pod-level settings shared by every pod: (dict "root" $ "component" "auth"). */}}
{{- define "workpulse.podSpecCommon" -}}
{{- $v := .root.Values }}
# No Service environment variables: a Service named kafka or redis would otherwise put KAFKA_*
# and REDIS_* variables beside the ones the services read.
enableServiceLinks: false
{{- with $v.image.pullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
securityContext:
  {{- toYaml $v.podSecurityContext | nindent 2 }}
{{- with $v.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $v.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $v.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if $v.affinity }}
affinity:
  {{- toYaml $v.affinity | nindent 2 }}
{{- else }}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              {{- include "workpulse.selectorLabels" . | nindent 14 }}
{{- end }}
{{- end }}

{{/* Whether to render the Prometheus Operator objects. */}}
{{- define "workpulse.monitoring" -}}
{{- $mode := .Values.monitoring.mode }}
{{- if or (eq $mode "always") (and (eq $mode "auto") (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1")) }}true{{ end }}
{{- end }}
