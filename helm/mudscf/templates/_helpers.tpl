{{- define "mudscf.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mudscf.fullname" -}}
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

{{/*
An object's labels: the chart's, then the object's own (a dict: its
component, serviceMonitor.labels, ...), then commonLabels; the first to
set a key wins, so a key is never written twice. Called with the root
context, or with (list $root $own).
*/}}
{{- define "mudscf.labels" -}}
{{- $root := . }}
{{- $own := dict }}
{{- if kindIs "slice" . }}
{{- $root = index . 0 }}
{{- $own = index . 1 | default dict }}
{{- end }}
{{- $chart := dict
  "helm.sh/chart" (printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_")
  "app.kubernetes.io/name" (include "mudscf.name" $root)
  "app.kubernetes.io/instance" $root.Release.Name
  "app.kubernetes.io/version" $root.Chart.AppVersion
  "app.kubernetes.io/managed-by" $root.Release.Service }}
{{- toYaml (merge $chart (deepCopy $own) (deepCopy ($root.Values.commonLabels | default dict))) }}
{{- end }}

{{- define "mudscf.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mudscf.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
A pod template's labels, called with (list $root component): the
selector's, then podLabels, then commonLabels.
*/}}
{{- define "mudscf.podLabels" -}}
{{- $root := index . 0 }}
{{- $selector := include "mudscf.selectorLabels" $root | fromYaml }}
{{- $_ := set $selector "app.kubernetes.io/component" (index . 1) }}
{{- toYaml (merge $selector (deepCopy ($root.Values.podLabels | default dict)) (deepCopy ($root.Values.commonLabels | default dict))) }}
{{- end }}

{{- define "mudscf.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}
{{- end }}

{{- define "mudscf.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mudscf.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "mudscf.secretName" -}}
{{- default (include "mudscf.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/* The most proxy replicas that can run at once: what the budget is shared by. */}}
{{- define "mudscf.maxReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ int .Values.autoscaling.maxReplicas }}{{ else }}{{ int .Values.replicaCount }}{{ end }}
{{- end }}

{{/* "true" when the proxy reads Tencent keys from the Secret. */}}
{{- define "mudscf.tencentKeysFromSecret" -}}
{{- if not .Values.workloadIdentity.enabled }}
{{- if .Values.secret.existingSecret }}
{{- if and .Values.secret.keys.tencentSecretId .Values.secret.keys.tencentSecretKey }}true{{ end }}
{{- else if .Values.secret.tencentSecretId }}true{{ end }}
{{- end }}
{{- end }}

{{/* "true" when an HMAC algorithm is allowed, so the JWT secret is used. */}}
{{- define "mudscf.hmac" -}}
{{- range .Values.proxy.config.jwt.algorithms }}{{ if hasPrefix "HS" . }}true{{ end }}{{ end }}
{{- end }}

{{/* "true" when the proxy is given a Redis URL (with Sentinel it may have none). */}}
{{- define "mudscf.redisURL" -}}
{{- if and .Values.redis.enabled (or .Values.redis.existingSecret .Values.redis.url) }}true{{ end }}
{{- end }}

{{/* The proxy's variables for Redis: the URL and the Sentinels' password, from Secrets. */}}
{{- define "mudscf.redisEnv" -}}
{{- if include "mudscf.redisURL" . }}
- name: MUDSCF_REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "mudscf.redisSecretName" . }}
      key: {{ include "mudscf.redisSecretKey" . }}
{{- end }}
{{- with .Values.redis.sentinel }}
{{- if and $.Values.redis.enabled .enabled .existingSecret }}
- name: MUDSCF_REDIS_SENTINEL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ .existingSecret }}
      key: {{ .existingSecretKey }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mudscf.redisSecretName" -}}
{{- default (include "mudscf.fullname" .) .Values.redis.existingSecret }}
{{- end }}

{{- define "mudscf.redisSecretKey" -}}
{{- if .Values.redis.existingSecret }}{{ .Values.redis.existingSecretKey }}{{ else }}redis-url{{ end }}
{{- end }}

{{- define "mudscf.exporterEndpoint" -}}
{{- if eq .Values.exporter.mode "sidecar" -}}
http://127.0.0.1:{{ .Values.ports.api }}
{{- else -}}
http://{{ include "mudscf.fullname" . }}.{{ .Release.Namespace }}.svc:{{ .Values.service.port }}
{{- end }}
{{- end }}

{{/*
Settings that cannot work fail the render with why and what to set, so a
broken release is never installed.
*/}}
{{- define "mudscf.validate" -}}
{{- $max := int (include "mudscf.maxReplicas" .) }}
{{- if and (gt $max 1) (not .Values.redis.enabled) }}
{{- fail (printf "mudscf: %d proxy replicas without redis: each replica would spend its own %v req/s of the Tencent account's GetFunctionLogs budget, so together they would exceed it and get RequestLimitExceeded. Set redis.enabled=true with redis.existingSecret (or redis.url) for a shared budget, or run one replica (replicaCount=1, autoscaling.enabled=false)." $max (.Values.proxy.config.budget.requestsPerSecond | default 5)) }}
{{- end }}
{{- $sentinel := .Values.redis.sentinel }}
{{- if and .Values.redis.enabled (not $sentinel.enabled) (not (include "mudscf.redisURL" .)) }}
{{- fail "mudscf: redis.enabled needs the Redis URL: set redis.existingSecret (and redis.existingSecretKey) or redis.url." }}
{{- end }}
{{- if and $sentinel.enabled (not .Values.redis.enabled) }}
{{- fail "mudscf: redis.sentinel.enabled is a way to reach the shared Redis: set redis.enabled=true too." }}
{{- end }}
{{- if and $sentinel.enabled (not $sentinel.addresses) }}
{{- fail "mudscf: redis.sentinel.enabled needs the Sentinels: set redis.sentinel.addresses to their host:port." }}
{{- end }}
{{- if and $sentinel.enabled $sentinel.username (not $sentinel.existingSecret) }}
{{- fail "mudscf: redis.sentinel.username needs its password: set redis.sentinel.existingSecret (and existingSecretKey)." }}
{{- end }}
{{- if and .Values.exporter.enabled (eq .Values.exporter.mode "sidecar") (gt $max 1) }}
{{- fail (printf "mudscf: exporter.mode=sidecar with %d proxy replicas: every replica's exporter would export each execution again (dashboards would count it %d times) and spend the budget again. Set exporter.mode=deployment (one exporter pod polling the proxy Service)." $max $max) }}
{{- end }}
{{- if and .Values.exporter.enabled .Values.exporter.persistence.enabled (eq .Values.exporter.mode "sidecar") }}
{{- fail "mudscf: exporter.persistence with exporter.mode=sidecar: a rolling update starts the new proxy pod before the old one lets go of the ReadWriteOnce volume, so the rollout can hang. Set exporter.mode=deployment (its own pod, replaced with the Recreate strategy)." }}
{{- end }}
{{- if and .Values.exporter.enabled (not (include "mudscf.hmac" .)) }}
{{- fail "mudscf: the exporter authenticates with HS256 tokens minted from the JWT secret, but proxy.config.jwt.algorithms allows no HS algorithm. Add HS256 to proxy.config.jwt.algorithms or set exporter.enabled=false." }}
{{- end }}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) }}
{{- fail "mudscf: autoscaling.maxReplicas must be at least autoscaling.minReplicas." }}
{{- end }}
{{- if and .Values.autoscaling.enabled (not (dig "requests" "cpu" "" .Values.proxy.resources)) }}
{{- fail "mudscf: autoscaling scales on CPU utilization, which is relative to proxy.resources.requests.cpu: set it." }}
{{- end }}
{{- if .Values.workloadIdentity.enabled }}
{{- if not (and .Values.workloadIdentity.region .Values.workloadIdentity.providerId .Values.workloadIdentity.roleArn) }}
{{- fail "mudscf: workloadIdentity.enabled needs workloadIdentity.region, providerId and roleArn (the TKE_* variables Tencent's SDK reads)." }}
{{- end }}
{{- if .Values.secret.tencentSecretId }}
{{- fail "mudscf: workloadIdentity.enabled and secret.tencentSecretId both give Tencent credentials: keep one." }}
{{- end }}
{{- end }}
{{- if and (not .Values.secret.existingSecret) (ne (empty .Values.secret.tencentSecretId) (empty .Values.secret.tencentSecretKey)) }}
{{- fail "mudscf: secret.tencentSecretId and secret.tencentSecretKey go together: set both or neither." }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (eq (toString .Values.podDisruptionBudget.maxUnavailable) "0" "0%") }}
{{- fail "mudscf: podDisruptionBudget.maxUnavailable=0 would block every voluntary eviction (node drains, cluster upgrades): allow at least 1." }}
{{- end }}
{{- with .Values.webConfig }}
{{- if and .config .existingSecret }}
{{- fail "mudscf: webConfig.config and webConfig.existingSecret both give the web configuration: keep one." }}
{{- end }}
{{- if has (dig "tls_server_config" "client_auth_type" "" (.config | default dict)) (list "RequireAnyClientCert" "RequireAndVerifyClientCert") }}
{{- fail "mudscf: webConfig.config.tls_server_config.client_auth_type requires a client certificate, which kubelet's probes of /healthz and /readyz cannot present, so every pod would be restarted and never ready. Use VerifyClientCertIfGiven: clients with a certificate are still verified." }}
{{- end }}
{{- end }}
{{- if .Values.serviceMonitor.enabled }}
{{- if and (include "mudscf.webTLS" .) (not .Values.serviceMonitor.tlsConfig) }}
{{- fail "mudscf: the metrics listeners serve HTTPS (webConfig), so Prometheus must know how to verify them: set serviceMonitor.tlsConfig (the Prometheus Operator's SafeTLSConfig), e.g. {ca: {secret: {name: <webConfig.tlsSecret>, key: ca.crt}}, serverName: <a name in the certificate>}." }}
{{- end }}
{{- if and (dig "basic_auth_users" dict (.Values.webConfig.config | default dict)) (not .Values.serviceMonitor.basicAuth) }}
{{- fail "mudscf: webConfig.config has basic_auth_users, so every scrape without credentials gets 401: set serviceMonitor.basicAuth ({username: {name: <Secret>, key: <key>}, password: {name: <Secret>, key: <key>}}, a Secret in the ServiceMonitor's namespace)." }}
{{- end }}
{{- end }}
{{- end }}

{{/* proxy.yaml: the user's settings plus what the chart owns. */}}
{{- define "mudscf.proxyConfig" -}}
{{- $cfg := deepCopy .Values.proxy.config }}
{{- $_ := set $cfg "listen" (printf ":%v" .Values.ports.api) }}
{{- $_ = set $cfg "adminListen" (printf ":%v" .Values.ports.admin) }}
{{- if include "mudscf.hmac" . }}
{{- $_ = set $cfg.jwt "secretFile" "/etc/mudscf/secrets/jwt-secret" }}
{{- end }}
{{- if include "mudscf.tencentKeysFromSecret" . }}
{{- range $id, $p := $cfg.projects }}
{{- if not $p.credentials }}
{{- $_ = set $p "credentials" (dict "secretIdFile" "/etc/mudscf/secrets/tencent-secret-id" "secretKeyFile" "/etc/mudscf/secrets/tencent-secret-key") }}
{{- end }}
{{- end }}
{{- end }}
{{- if .Values.redis.enabled }}
{{- $redis := dict "replicas" (int (include "mudscf.maxReplicas" .)) }}
{{- if include "mudscf.redisURL" . }}
{{- $_ = set $redis "urlEnv" "MUDSCF_REDIS_URL" }}
{{- end }}
{{- $s := .Values.redis.sentinel }}
{{- if $s.enabled }}
{{- $sentinel := dict "masterName" $s.masterName "addresses" $s.addresses }}
{{- if $s.existingSecret }}
{{- $_ = set $sentinel "passwordEnv" "MUDSCF_REDIS_SENTINEL_PASSWORD" }}
{{- end }}
{{- with $s.username }}
{{- $_ = set $sentinel "username" . }}
{{- end }}
{{- $_ = set $redis "sentinel" $sentinel }}
{{- end }}
{{- $_ = set $cfg "redis" $redis }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* exporter.yaml: the user's settings plus what the chart owns. */}}
{{- define "mudscf.exporterConfig" -}}
{{- $cfg := deepCopy .Values.exporter.config }}
{{- $jwt := .Values.proxy.config.jwt }}
{{- $_ := set $cfg "listen" (printf ":%v" .Values.ports.exporter) }}
{{- $_ = set $cfg "endpoint" (include "mudscf.exporterEndpoint" .) }}
{{- $_ = set $cfg "checkpoint" "/var/lib/mudscf/exporter-checkpoint.json" }}
{{- $_ = set $cfg "auth" (dict "jwtSecretFile" "/etc/mudscf/secrets/jwt-secret" "subject" "mudscf-exporter" "role" ($jwt.backgroundRole | default "mudscf-exporter") "projectsClaim" ($jwt.projectsClaim | default "projects") "rolesClaim" ($jwt.rolesClaim | default "roles")) }}
{{- $functions := .Values.exporter.functions }}
{{- if not $functions }}
{{- range $project, $p := .Values.proxy.config.projects }}
{{- range $function, $f := $p.functions }}
{{- $fn := dict "project" $project "function" $function "name" $f.name "region" $p.region }}
{{- if $f.qualifier }}{{ $_ = set $fn "qualifier" $f.qualifier }}{{ end }}
{{- $functions = append $functions $fn }}
{{- end }}
{{- end }}
{{- end }}
{{- $_ = set $cfg "functions" $functions }}
{{- toYaml $cfg }}
{{- end }}

{{/* The exporter container, as a sidecar or in its own Deployment. */}}
{{- define "mudscf.exporterContainer" -}}
- name: exporter
  image: {{ include "mudscf.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args:
    {{- include "mudscf.args" (list . "exporter" .Values.exporter.extraArgs) | nindent 4 }}
  ports:
    - name: exporter
      containerPort: {{ .Values.ports.exporter }}
      protocol: TCP
  {{- $env := include "mudscf.otlpEnv" (list . "exporter") | trim }}
  {{- if or $env .Values.exporter.extraEnv }}
  env:
    {{- with $env }}
    {{- . | nindent 4 }}
    {{- end }}
    {{- with .Values.exporter.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- end }}
  {{- with .Values.exporter.extraEnvFrom }}
  envFrom:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  livenessProbe:
    httpGet: {path: /healthz, port: exporter{{ if include "mudscf.webTLS" . }}, scheme: HTTPS{{ end }}}
    periodSeconds: 10
    failureThreshold: 3
  readinessProbe:
    httpGet:
      {{- if eq .Values.exporter.mode "sidecar" }}
      # Not /readyz: that waits for the first full polling round, and a
      # sidecar's readiness is the pod's, so the proxy would get no traffic
      # while the exporter catches up or the upstream is down.
      path: /healthz
      {{- else }}
      path: /readyz
      {{- end }}
      port: exporter
      {{- if include "mudscf.webTLS" . }}
      scheme: HTTPS
      {{- end }}
    periodSeconds: 10
  resources:
    {{- toYaml .Values.exporter.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - {name: config, mountPath: /etc/mudscf/config, readOnly: true}
    - {name: exporter-secrets, mountPath: /etc/mudscf/secrets, readOnly: true}
    - {name: exporter-state, mountPath: /var/lib/mudscf}
    {{- with include "mudscf.webVolumeMounts" . | trim }}{{ . | nindent 4 }}{{ end }}
    {{- with .Values.exporter.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/* Volumes the exporter container mounts. */}}
{{- define "mudscf.exporterVolumes" -}}
- name: exporter-secrets
  secret:
    secretName: {{ include "mudscf.secretName" . }}
    # The exporter needs the JWT secret only, never the Tencent keys.
    items:
      - {key: {{ .Values.secret.keys.jwtSecret }}, path: jwt-secret}
- name: exporter-state
  {{- if .Values.exporter.persistence.enabled }}
  persistentVolumeClaim:
    claimName: {{ default (printf "%s-exporter" (include "mudscf.fullname" .)) .Values.exporter.persistence.existingClaim }}
  {{- else }}
  emptyDir: {}
  {{- end }}
{{- end }}

{{/*
A container's args, called with (list $root command extraArgs): the
command and its configuration file, the web configuration when there is
one, then the user's.
*/}}
{{- define "mudscf.args" -}}
{{- $root := index . 0 }}
{{- $command := index . 1 }}
{{- $args := list $command "--config" (printf "/etc/mudscf/config/%s.yaml" $command) }}
{{- with include "mudscf.webConfigFile" $root }}
{{- $args = append $args (printf "--web.config.file=%s" .) }}
{{- end }}
{{- toYaml (concat $args (index . 2 | default list)) }}
{{- end }}

{{/*
OTEL_* variables for a container, called with (list $root component):
mudscf reads the standard ones, and sends nothing without an endpoint.
*/}}
{{- define "mudscf.otlpEnv" -}}
{{- $component := index . 1 }}
{{- with (index . 0).Values.otlp }}
{{- if and .endpoint (ternary .proxyTraces .executionSpans (eq $component "proxy")) }}
- {name: OTEL_EXPORTER_OTLP_ENDPOINT, value: {{ .endpoint | quote }}}
- {name: OTEL_EXPORTER_OTLP_PROTOCOL, value: {{ .protocol | quote }}}
{{- if .headers.existingSecret }}
- name: OTEL_EXPORTER_OTLP_HEADERS
  valueFrom:
    secretKeyRef: {name: {{ .headers.existingSecret }}, key: {{ .headers.key }}}
{{- end }}
{{- if and .serviceName (eq $component "proxy") }}
- {name: OTEL_SERVICE_NAME, value: {{ .serviceName | quote }}}
{{- end }}
{{- with .resourceAttributes }}
{{- $pairs := list }}
{{- range $k, $v := . }}
{{- /* The SDK splits on "," and "=" and percent-decodes each value. */}}
{{- $pairs = append $pairs (printf "%s=%s" $k (toString $v | replace "%" "%25" | replace "," "%2C" | replace "=" "%3D" | replace " " "%20")) }}
{{- end }}
- {name: OTEL_RESOURCE_ATTRIBUTES, value: {{ join "," $pairs | quote }}}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/* "true" when the metrics listeners get a web configuration. */}}
{{- define "mudscf.web" -}}
{{- with .Values.webConfig }}{{ if or .config .existingSecret .tlsSecret }}true{{ end }}{{ end }}
{{- end }}

{{/*
"true" when the metrics listeners serve HTTPS: a certificate Secret, or a
tls_server_config of the chart's own. (An existingSecret is never read.)
*/}}
{{- define "mudscf.webTLS" -}}
{{- with .Values.webConfig }}{{ if or .tlsSecret (dig "tls_server_config" dict (.config | default dict)) }}true{{ end }}{{ end }}
{{- end }}

{{/* The web configuration's path in the containers, empty without one. */}}
{{- define "mudscf.webConfigFile" -}}
{{- if include "mudscf.web" . }}
{{- printf "/etc/mudscf/web/%s" (ternary .Values.webConfig.existingSecretKey "web-config.yml" (not (empty .Values.webConfig.existingSecret))) }}
{{- end }}
{{- end }}

{{/* web-config.yml for the chart's Secret: config, pointed at tlsSecret. */}}
{{- define "mudscf.webConfig" -}}
{{- $cfg := deepCopy (.Values.webConfig.config | default dict) }}
{{- if .Values.webConfig.tlsSecret }}
{{- $tls := dig "tls_server_config" dict $cfg }}
{{- $_ := set $cfg "tls_server_config" (merge $tls (dict "cert_file" "/etc/mudscf/web-tls/tls.crt" "key_file" "/etc/mudscf/web-tls/tls.key")) }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{- define "mudscf.webVolumeMounts" -}}
{{- if include "mudscf.web" . }}
- {name: web-config, mountPath: /etc/mudscf/web, readOnly: true}
{{- end }}
{{- if .Values.webConfig.tlsSecret }}
- {name: web-tls, mountPath: /etc/mudscf/web-tls, readOnly: true}
{{- end }}
{{- end }}

{{/* Volumes of every pod the chart runs: the web configuration's and extraVolumes. */}}
{{- define "mudscf.podVolumes" -}}
{{- if include "mudscf.web" . }}
- name: web-config
  secret:
    {{- if .Values.webConfig.existingSecret }}
    # Whole: relative paths in the configuration name its other keys.
    secretName: {{ .Values.webConfig.existingSecret }}
    {{- else }}
    secretName: {{ include "mudscf.fullname" . }}-web-config
    items:
      - {key: web-config.yml, path: web-config.yml}
    {{- end }}
{{- end }}
{{- with .Values.webConfig.tlsSecret }}
- name: web-tls
  secret:
    secretName: {{ . }}
    items:
      - {key: tls.crt, path: tls.crt}
      - {key: tls.key, path: tls.key}
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Pod settings shared by the proxy and exporter Deployments. */}}
{{- define "mudscf.podCommon" -}}
serviceAccountName: {{ include "mudscf.serviceAccountName" . }}
# Also when the service account is not the chart's: mudscf never calls the
# Kubernetes API.
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Rolls the pods when the configuration or the chart's Secret changes. */}}
{{- define "mudscf.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ list .Values.secret .Values.redis .Values.workloadIdentity | toJson | sha256sum }}
{{- end }}

{{/* 0 is a limit too (no old ReplicaSets kept); null leaves Kubernetes' default. */}}
{{- define "mudscf.revisionHistoryLimit" -}}
{{- if not (kindIs "invalid" .Values.revisionHistoryLimit) }}
revisionHistoryLimit: {{ int .Values.revisionHistoryLimit }}
{{- end }}
{{- end }}
