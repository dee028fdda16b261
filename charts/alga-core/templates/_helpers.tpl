{{/* The chart name, or nameOverride. */}}
{{- define "alga-core.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object name: the release name when it already
contains the chart name (release alga-core gives "alga-core"). */}}
{{- define "alga-core.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "alga-core.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "alga-core.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels of one component: name, instance and component only,
because selectors cannot change after the first install.
Call with (list $ "component"). */}}
{{- define "alga-core.selectorLabels" -}}
{{- $top := index . 0 -}}
app.kubernetes.io/name: {{ include "alga-core.name" $top }}
app.kubernetes.io/instance: {{ $top.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end -}}

{{/* Labels of one component's pods: no chart or app version, so that a
chart release alone does not restart Postgres or Redis.
Call with (list $ "component"). */}}
{{- define "alga-core.podLabels" -}}
{{ include "alga-core.selectorLabels" . }}
app.kubernetes.io/part-of: alga-psa
{{- end -}}

{{/* Every label of one component's objects. Call with (list $ "component"). */}}
{{- define "alga-core.labels" -}}
{{- $top := index . 0 -}}
{{ include "alga-core.selectorLabels" . }}
app.kubernetes.io/part-of: alga-psa
app.kubernetes.io/version: {{ $top.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $top.Release.Service }}
helm.sh/chart: {{ include "alga-core.chart" $top }}
{{- end -}}

{{/* An image reference "repository:tag" from an image value; fails naming
the key when the tag is missing or not pinned.
Call with (list IMAGE_VALUE "values.key.of.image" DEFAULT_TAG). */}}
{{- define "alga-core.image" -}}
{{- $image := index . 0 -}}
{{- $key := index . 1 -}}
{{- $tag := default (index . 2) $image.tag | toString -}}
{{- if not $image.repository -}}
{{- fail (printf "%s.repository is required: the image to pull" $key) -}}
{{- end -}}
{{- if not $tag -}}
{{- fail (printf "%s.tag is required: pin the image %s to a tag" $key $image.repository) -}}
{{- end -}}
{{- if eq $tag "latest" -}}
{{- fail (printf "%s.tag must be pinned: \"latest\" changes under a running appliance" $key) -}}
{{- end -}}
{{- printf "%s:%s" $image.repository $tag -}}
{{- end -}}

{{/* The image of the Alga server (also the bootstrap Job's main container). */}}
{{- define "alga-core.serverImage" -}}
{{- include "alga-core.image" (list .Values.server.image "server.image" "") -}}
{{- end -}}

{{/* The image that carries the alga-bootstrap binary; its tag defaults to
the chart's appVersion. */}}
{{- define "alga-core.bootstrapImage" -}}
{{- include "alga-core.image" (list .Values.bootstrap.image "bootstrap.image" .Chart.AppVersion) -}}
{{- end -}}

{{/* True (non-empty) when Hocuspocus is rendered: only with an image. */}}
{{- define "alga-core.hocuspocusEnabled" -}}
{{- if .Values.hocuspocus.image.repository -}}true{{- end -}}
{{- end -}}

{{/* Name of the Secret with the database and Redis passwords. */}}
{{- define "alga-core.dbSecretName" -}}
{{- default (printf "%s-db" (include "alga-core.fullname" .)) .Values.credentials.db.existingSecret -}}
{{- end -}}

{{/* Name of the Secret with the app's own secrets. */}}
{{- define "alga-core.appSecretName" -}}
{{- default (printf "%s-app" (include "alga-core.fullname" .)) .Values.credentials.app.existingSecret -}}
{{- end -}}

{{/* The default Alga bootstrap plan, read from the chart; fails when the file
is missing, since a bootstrap without a plan would do nothing. */}}
{{- define "alga-core.bootstrapPlan" -}}
{{- $plan := .Files.Get "files/bootstrap-plan.yaml" -}}
{{- if not (trim $plan) -}}
{{- fail "files/bootstrap-plan.yaml is missing or empty in the chart: the bootstrap Job needs its plan" -}}
{{- end -}}
{{- $plan -}}
{{- end -}}

{{/* The bootstrap revision: a short hash of what should make the bootstrap
run again (the server image with its migrations and seeds, the bootstrap
binary, the plan, and bootstrap.rerun). The server and Hocuspocus wait for a
completed run of this revision. */}}
{{- define "alga-core.bootstrapRevision" -}}
{{- $inputs := list (include "alga-core.serverImage" .) (include "alga-core.bootstrapImage" .) (include "alga-core.bootstrapPlan" .) (toString .Values.bootstrap.rerun) -}}
{{- $inputs | toJson | sha256sum | trunc 10 -}}
{{- end -}}

{{/* Host and port the server and Hocuspocus use for Postgres: the PgBouncer
Service when pgbouncer.enabled, the Postgres Service otherwise. The bootstrap
Job never uses this. */}}
{{- define "alga-core.appDbHost" -}}
{{- if .Values.pgbouncer.enabled -}}
{{- .Values.pgbouncer.host -}}
{{- else -}}
{{- printf "%s-postgres" (include "alga-core.fullname" .) -}}
{{- end -}}
{{- end -}}

{{- define "alga-core.appDbPort" -}}
{{- if .Values.pgbouncer.enabled -}}
{{- .Values.pgbouncer.port -}}
{{- else -}}
5432
{{- end -}}
{{- end -}}

{{/* The container security context every container gets: Pod Security
"restricted" (non-root, no privilege escalation, no capabilities, the
runtime's default seccomp profile). Call with a bool: read-only root. */}}
{{- define "alga-core.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: {{ . }}
runAsNonRoot: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* imagePullSecrets of every pod, when any are configured; call with
(list $ INDENT). */}}
{{- define "alga-core.imagePullSecrets" -}}
{{- $top := index . 0 -}}
{{- with $top.Values.imagePullSecrets }}
{{- dict "imagePullSecrets" . | toYaml | nindent (index $ 1) }}
{{- end }}
{{- end -}}

{{/* The init containers of a pod that must not start before the bootstrap
has completed the current revision: `alga-bootstrap wait`, run from the
bootstrap image itself (it needs nothing of the app image), connecting as
app_user to database "server" the way the app does (through PgBouncer when
enabled). It needs no plan: connection and revision come from the env.
Needs the volume "db-secrets" with key app-password. */}}
{{- define "alga-core.waitForBootstrap" -}}
- name: wait-for-bootstrap
  image: {{ include "alga-core.bootstrapImage" . }}
  imagePullPolicy: {{ .Values.imagePullPolicy }}
  # Wait as long as a first boot may take (the Job's deadline plus time to
  # pull images), so that the init container does not fail into the
  # kubelet's growing restart back-off while the migrations run.
  command:
    - /usr/local/bin/alga-bootstrap
    - wait
    - --deadline
    - {{ add .Values.bootstrap.activeDeadlineSeconds 900 | quote }}
  env:
    - name: ALGA_BOOTSTRAP_HOST
      value: {{ include "alga-core.appDbHost" . | quote }}
    - name: ALGA_BOOTSTRAP_PORT
      value: {{ include "alga-core.appDbPort" . | quote }}
    - name: ALGA_BOOTSTRAP_USER
      value: app_user
    - name: ALGA_BOOTSTRAP_PASSWORD_FILE
      value: /run/secrets/alga-db/app-password
    - name: ALGA_BOOTSTRAP_DATABASE
      value: server
    - name: ALGA_BOOTSTRAP_REVISION
      value: {{ include "alga-core.bootstrapRevision" . | quote }}
  volumeMounts:
    - name: db-secrets
      mountPath: /run/secrets/alga-db
      readOnly: true
  resources:
    {{- toYaml .Values.bootstrap.waitResources | nindent 4 }}
  securityContext:
    {{- include "alga-core.containerSecurityContext" true | nindent 4 }}
{{- end -}}
