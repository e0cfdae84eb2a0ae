{{/* Names, labels and the environment every pod shares. */}}

{{- define "attune.name" -}}
{{- printf "%s-%s" .root.Release.Name .service | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "attune.labels" -}}
app.kubernetes.io/name: attune
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "attune.selector" -}}
app.kubernetes.io/name: attune
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .service }}
{{- end -}}

{{- define "attune.image" -}}
{{- $v := .root.Values.image -}}
{{- printf "%s-%s:%s" $v.repository .service (default .root.Chart.AppVersion $v.tag) -}}
{{- end -}}

{{- define "attune.secretEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.secrets.name }}
      key: {{ .key }}
{{- end -}}

{{/* What compose gives every container: the broker, the prefix, the identity store, secrets. */}}
{{- define "attune.env" -}}
{{- $s := .root.Values.secrets -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ .root.Values.kafka.bootstrapServers | quote }}
- name: ATTUNE_TOPIC_PREFIX
  value: {{ .root.Values.topicPrefix | quote }}
{{ include "attune.secretEnv" (dict "root" .root "env" "ATTUNE_AUTH_DATABASE_URL" "key" $s.keys.databaseUrl) }}
{{ include "attune.secretEnv" (dict "root" .root "env" "ATTUNE_AUTH_JWT_SECRET" "key" $s.keys.jwtSecret) }}
{{ include "attune.secretEnv" (dict "root" .root "env" "ATTUNE_METRICS_TOKEN" "key" $s.keys.metricsToken) }}
{{- range $name, $value := .root.Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "attune.podSpecCommon" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- end -}}
