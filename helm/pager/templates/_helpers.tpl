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

{{- define "pager.checksumSecret" -}}
{{- $inputs := dict "auth" .Values.auth "twilio" .Values.twilio "postgresql" .Values.database.postgresql "mode" .Values.database.mode }}
{{- toJson $inputs | sha256sum }}
{{- end }}
