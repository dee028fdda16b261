{{/* The chart name, for labels. */}}
{{- define "email-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object names: the release name ("email-service" on the appliance). */}}
{{- define "email-service.fullname" -}}
{{- default .Release.Name .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "email-service.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "email-service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: worker
app.kubernetes.io/part-of: alga-psa
{{- end }}

{{/* Selector labels: name and instance only, because selectors are
immutable. */}}
{{- define "email-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "email-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The worker image: by digest when one is given, else by tag. */}}
{{- define "email-service.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository .Values.image.tag }}
{{- end }}
{{- end }}

{{/* Container security context: Pod Security "restricted". The argument is
whether the root filesystem is read-only. */}}
{{- define "email-service.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: {{ . }}
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* One env entry with a plain value; values are quoted as strings. */}}
{{- define "email-service.envValue" -}}
- name: {{ index . 0 }}
  value: {{ index . 1 | toString | quote }}
{{- end }}

{{/* The worker's environment: where Postgres, Redis and Temporal are, the
health server's port, extra plain values, then every secret through
secretKeyRef (never a value). */}}
{{- define "email-service.env" -}}
{{- $db := .Values.database }}
{{- $plain := dict
  "DB_HOST" $db.host "DB_PORT" $db.port "DB_NAME_SERVER" $db.name
  "DB_USER_SERVER" $db.user "DB_HOST_ADMIN" $db.adminHost
  "DB_PORT_ADMIN" $db.adminPort "DB_USER_ADMIN" $db.adminUser
  "DB_POOL_MAX" $db.adminPoolMax }}
{{- if .Values.redis.host }}
{{- $_ := set $plain "REDIS_HOST" .Values.redis.host }}
{{- $_ := set $plain "REDIS_PORT" .Values.redis.port }}
{{- end }}
{{- if .Values.temporal.address }}
{{- $_ := set $plain "TEMPORAL_ADDRESS" .Values.temporal.address }}
{{- $_ := set $plain "TEMPORAL_NAMESPACE" .Values.temporal.namespace }}
{{- end }}
{{- if .Values.applicationUrl }}
{{- $_ := set $plain "APPLICATION_URL" .Values.applicationUrl }}
{{- $_ := set $plain "NEXTAUTH_URL" .Values.applicationUrl }}
{{- end }}
{{- $_ := set $plain .Values.health.portVariable .Values.health.port }}
{{- /* npm and node write caches under HOME; the image has none for the
user the pod runs as, so it points at the /tmp volume. */}}
{{- $_ := set $plain "HOME" "/tmp" }}
{{- with .Values.health.switchVariable }}
{{- $_ := set $plain . "true" }}
{{- end }}
{{- range $name, $_ := .Values.extraEnv }}
{{- if regexMatch "PASSWORD|SECRET|TOKEN|KEY" $name }}
{{- fail (printf "extraEnv.%s looks like a secret: put it in a Secret and name it in secretEnv instead" $name) }}
{{- end }}
{{- if hasKey $plain $name }}
{{- fail (printf "extraEnv.%s is set by the chart itself (database, redis, temporal, health or applicationUrl values)" $name) }}
{{- end }}
{{- if hasKey $.Values.secretEnv $name }}
{{- fail (printf "%s is in both extraEnv and secretEnv" $name) }}
{{- end }}
{{- end }}
{{- $plain = merge $plain .Values.extraEnv }}
{{- range $name := keys $plain | sortAlpha }}
{{ include "email-service.envValue" (list $name (index $plain $name)) }}
{{- end }}
{{- range $name, $ref := .Values.secretEnv }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ index $.Values.secrets $ref.secret }}
      key: {{ $ref.key }}
{{- end }}
{{- end }}
