{{/* The chart name, for labels. */}}
{{- define "pgbouncer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object names: the release name ("pgbouncer" on the appliance), which
is also the Service name clients connect to. */}}
{{- define "pgbouncer.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "pgbouncer.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "pgbouncer.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: connection-pooler
app.kubernetes.io/part-of: alga-psa
{{- end }}

{{/* Selector labels: name and instance only, because selectors are
immutable. */}}
{{- define "pgbouncer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pgbouncer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The image reference: by digest when one is given, else by tag. */}}
{{- define "pgbouncer.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag }}
{{- end }}
{{- end }}

{{/* Where the user list lives in the pod (a memory-backed emptyDir). */}}
{{- define "pgbouncer.userlistPath" -}}
/run/pgbouncer/userlist.txt
{{- end }}

{{/* pgbouncer.ini. It holds no secret: the passwords are in the user list,
written at pod start. Every [databases] entry caps its server connections for
all users together (pool_size and max_db_connections), so their sum bounds
what PgBouncer opens to Postgres. */}}
{{- define "pgbouncer.ini" -}}
;; pgbouncer.ini of release {{ .Release.Name }} (chart {{ .Chart.Name }} {{ .Chart.Version }})
[databases]
{{- range $name, $db := .Values.databases }}
{{ $name }} = host={{ $.Values.postgres.host }} port={{ $.Values.postgres.port }} dbname={{ $db.dbname }} pool_mode={{ $db.poolMode }} pool_size={{ $db.poolSize }} max_db_connections={{ $db.poolSize }}
{{- end }}

[pgbouncer]
listen_addr = {{ .Values.config.listenAddress }}
listen_port = {{ .Values.config.port }}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {{ include "pgbouncer.userlistPath" . }}
max_client_conn = {{ .Values.config.maxClientConnections }}
reserve_pool_size = 0
query_wait_timeout = {{ .Values.config.queryWaitTimeout }}
server_idle_timeout = {{ .Values.config.serverIdleTimeout }}
server_tls_sslmode = {{ .Values.config.serverTlsSslmode }}
ignore_startup_parameters = {{ .Values.config.ignoreStartupParameters }}
application_name_add_host = 1
log_connections = {{ ternary 1 0 .Values.config.logConnections }}
log_disconnections = {{ ternary 1 0 .Values.config.logConnections }}
{{- if .Values.config.newerSettings }}
;; PgBouncer 1.21 and later only (config.newerSettings).
max_prepared_statements = {{ .Values.config.maxPreparedStatements }}
{{- end }}
{{ end }}

{{/* Container security context: Pod Security "restricted". */}}
{{- define "pgbouncer.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* Fails the render when the pools could open more server connections than
the budget Postgres grants this release. */}}
{{- define "pgbouncer.checkBudget" -}}
{{- $total := 0 }}
{{- range .Values.databases }}
{{- $total = add $total .poolSize }}
{{- end }}
{{- $total = mul $total .Values.replicaCount }}
{{- if gt (int $total) (int .Values.postgres.connectionBudget) }}
{{- fail (printf "pgbouncer: the pools open up to %d server connections (pool sizes x %d replicas) but postgres.connectionBudget is %d: lower a databases.*.poolSize, or raise the budget after checking Postgres max_connections (see the chart README's pool budget)" (int $total) (int .Values.replicaCount) (int .Values.postgres.connectionBudget)) }}
{{- end }}
{{- end }}
