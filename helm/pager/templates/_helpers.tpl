{{/*
Names, labels and the few decisions shared by several templates.
*/}}

{{- define "pager.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pager.fullname" -}}
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

{{- define "pager.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "pager.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pager.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "pager.labels" -}}
helm.sh/chart: {{ include "pager.chart" . }}
{{ include "pager.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "pager.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "pager.sqlite" -}}
{{- if eq .Values.database.mode "sqlite" }}true{{ end }}
{{- end }}

{{/*
SQLite is one engine on one file: a second replica would page twice, so
SQLite mode is 1 whatever replicaCount says (the schema refuses > 1 too).
*/}}
{{- define "pager.replicas" -}}
{{- if include "pager.sqlite" . }}1{{ else }}{{ .Values.replicaCount }}{{ end }}
{{- end }}

{{/* PostgreSQL mode with the hook Job: the pods must not migrate too. */}}
{{- define "pager.migrationJob" -}}
{{- if and (not (include "pager.sqlite" .)) .Values.migration.job.enabled }}true{{ end }}
{{- end }}

{{- define "pager.authSecretName" -}}
{{- default (include "pager.fullname" .) .Values.auth.existingSecret }}
{{- end }}

{{- define "pager.twilioSecretName" -}}
{{- default (include "pager.fullname" .) .Values.twilio.existingSecret }}
{{- end }}

{{- define "pager.databaseSecretName" -}}
{{- default (include "pager.fullname" .) .Values.database.postgresql.existingSecret }}
{{- end }}

{{- define "pager.databaseSecretKey" -}}
{{- if .Values.database.postgresql.existingSecret }}{{ .Values.database.postgresql.existingSecretKey }}{{ else }}database-url{{ end }}
{{- end }}

{{/* The policy files the chart mounts, as YAML: the user's, else the demo. */}}
{{- define "pager.policyFiles" -}}
{{- if .Values.policies.files }}
{{- toYaml .Values.policies.files }}
{{- else }}
{{- toYaml (dict "example.yaml" (.Files.Get "files/example-policy.yaml")) }}
{{- end }}
{{- end }}

{{- define "pager.policiesConfigMap" -}}
{{- default (printf "%s-policies" (include "pager.fullname" .)) .Values.policies.existingConfigMap }}
{{- end }}

{{/*
The web console. Configured when it has users (web.users or web.existingSecret,
mounted as the web config file) or a sign-in proxy; otherwise the chart renders
nothing of it. The users file is a Secret of its own, so the volume holds
web.yml alone and never the tokens.
*/}}
{{- define "pager.web" -}}
{{- if or (include "pager.webUsers" .) .Values.web.proxyAuth.header }}true{{ end }}
{{- end }}

{{- define "pager.webUsers" -}}
{{- if or .Values.web.users .Values.web.existingSecret }}true{{ end }}
{{- end }}

{{- define "pager.webSecretName" -}}
{{- default (printf "%s-web" (include "pager.fullname" .)) .Values.web.existingSecret }}
{{- end }}

{{- define "pager.webSecretKey" -}}
{{- if .Values.web.existingSecret }}{{ .Values.web.existingSecretKey }}{{ else }}web.yml{{ end }}
{{- end }}

{{/* The users file as pager reads it (Prometheus's --web.config.file format). */}}
{{- define "pager.webConfig" -}}
# pager web console users, rendered by the Helm chart from web.users:
# person id (from the policy) -> bcrypt hash.
{{ toYaml (dict "basic_auth_users" .Values.web.users) }}
{{- end }}

{{/*
A token: the value given, else the one already in the release's Secret (so an
upgrade keeps it), else a new random one. Call with (list $ "key" "value").
*/}}
{{- define "pager.token" -}}
{{- $root := index . 0 }}
{{- $key := index . 1 }}
{{- $given := index . 2 }}
{{- if $given }}
{{- $given | b64enc }}
{{- else }}
{{- $existing := lookup "v1" "Secret" $root.Release.Namespace (include "pager.fullname" $root) }}
{{- if and $existing (index ($existing.data | default dict) $key) }}
{{- index $existing.data $key }}
{{- else }}
{{- randAlphaNum 32 | b64enc }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Checksums that roll the pods when what they read changes. The secret's is
over the values the user gave, not the rendered Secret: a generated token is
random on each render but kept by lookup, so it must not count.
*/}}
{{- define "pager.checksumPolicies" -}}
{{- if .Values.policies.existingConfigMap }}
{{- .Values.policies.existingConfigMap | sha256sum }}
{{- else }}
{{- include "pager.policyFiles" . | sha256sum }}
{{- end }}
{{- end }}

{{/* Over the users given (or the Secret's name) and the session key given. */}}
{{- define "pager.checksumWeb" -}}
{{- $w := .Values.web }}
{{- $inputs := dict "users" $w.users "existingSecret" $w.existingSecret "existingSecretKey" $w.existingSecretKey "sessionKey" $w.sessionKey }}
{{- toJson $inputs | sha256sum }}
{{- end }}

{{- define "pager.checksumSecret" -}}
{{- $inputs := dict "auth" .Values.auth "twilio" .Values.twilio "postgresql" .Values.database.postgresql "mode" .Values.database.mode }}
{{- toJson $inputs | sha256sum }}
{{- end }}
