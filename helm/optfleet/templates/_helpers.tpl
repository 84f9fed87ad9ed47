{{/* Names, labels and the derived settings every template shares. */}}

{{- define "optfleet.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "optfleet.fullname" -}}
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

{{- define "optfleet.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "optfleet.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: call with (dict "root" $ "component" "worker"). */}}
{{- define "optfleet.selectorLabels" -}}
app.kubernetes.io/name: {{ include "optfleet.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "optfleet.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "optfleet.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "optfleet.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "optfleet.coordinatorHost" -}}
{{- printf "%s-coordinator" (include "optfleet.fullname" .) }}
{{- end }}

{{/* Name of the NATS Service of the bundled chart (its nats.fullname rule). */}}
{{- define "optfleet.natsService" -}}
{{- if .Values.nats.fullnameOverride }}
{{- .Values.nats.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default "nats" .Values.nats.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The NATS URL the processes use: the bundled server, the external one, or empty (gRPC only). */}}
{{- define "optfleet.natsUrl" -}}
{{- if .Values.nats.enabled }}
{{- printf "nats://%s.%s.svc:4222" (include "optfleet.natsService" .) .Release.Namespace }}
{{- else }}
{{- .Values.externalNats.url }}
{{- end }}
{{- end }}

{{/* host:port of the NATS monitoring endpoint (JetStream lag for KEDA). */}}
{{- define "optfleet.natsMonitoring" -}}
{{- if .Values.nats.enabled }}
{{- printf "%s.%s.svc:8222" (include "optfleet.natsService" .) .Release.Namespace }}
{{- else }}
{{- .Values.externalNats.monitoringEndpoint }}
{{- end }}
{{- end }}

{{/* Settings that cannot be expressed in values.schema.json: checked while rendering. */}}
{{- define "optfleet.validate" -}}
{{- $nats := include "optfleet.natsUrl" . -}}
{{- if and (eq .Values.workers.transport "nats") (eq $nats "") -}}
{{- fail "workers.transport is nats but there is no NATS: set nats.enabled=true or externalNats.url (or workers.transport=grpc)" -}}
{{- end -}}
{{- if and .Values.autoscaling.keda.enabled .Values.autoscaling.hpa.enabled -}}
{{- fail "autoscaling.keda.enabled and autoscaling.hpa.enabled are both true: KEDA creates its own HPA, enable one of them" -}}
{{- end -}}
{{- if and .Values.autoscaling.keda.enabled (eq $nats "") -}}
{{- fail "autoscaling.keda.enabled needs NATS (the scaler reads the job queue's JetStream consumer lag): set nats.enabled=true or externalNats.url" -}}
{{- end -}}
{{- if and .Values.autoscaling.keda.enabled (eq (include "optfleet.natsMonitoring" .) "") -}}
{{- fail "autoscaling.keda.enabled with external NATS needs externalNats.monitoringEndpoint (host:8222)" -}}
{{- end -}}
{{- if and .Values.autoscaling.keda.enabled (gt (int .Values.autoscaling.keda.minReplicas) (int .Values.autoscaling.keda.maxReplicas)) -}}
{{- fail (printf "autoscaling.keda.minReplicas (%v) is over autoscaling.keda.maxReplicas (%v)" .Values.autoscaling.keda.minReplicas .Values.autoscaling.keda.maxReplicas) -}}
{{- end -}}
{{- if and .Values.autoscaling.hpa.enabled (gt (int .Values.autoscaling.hpa.minReplicas) (int .Values.autoscaling.hpa.maxReplicas)) -}}
{{- fail (printf "autoscaling.hpa.minReplicas (%v) is over autoscaling.hpa.maxReplicas (%v)" .Values.autoscaling.hpa.minReplicas .Values.autoscaling.hpa.maxReplicas) -}}
{{- end -}}
{{- $drain := 0 -}}
{{- if not (kindIs "invalid" .Values.workers.drainTimeoutSeconds) }}{{ $drain = int .Values.workers.drainTimeoutSeconds }}{{ end -}}
{{- $need := add (int .Values.workers.preStopDelaySeconds) $drain 5 -}}
{{- if lt (int .Values.workers.terminationGracePeriodSeconds) (int $need) -}}
{{- fail (printf "workers.terminationGracePeriodSeconds (%v) must be at least workers.preStopDelaySeconds + workers.drainTimeoutSeconds + 5 = %v, or Kubernetes kills a draining worker before it hands its shards back" .Values.workers.terminationGracePeriodSeconds $need) -}}
{{- end -}}
{{- if and .Values.job.enabled (eq .Values.job.spec "") (eq (.Files.Get (printf "files/examples/%s" .Values.job.example)) "") -}}
{{- fail (printf "job.example: no example spec %q in the chart (files/examples/); set job.spec or one of the examples" .Values.job.example) -}}
{{- end -}}
{{- end }}

{{/* Env of every optfleet container (names as in docs/ENVIRONMENT.md). */}}
{{- define "optfleet.env" -}}
- name: OPTFLEET_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- $nats := include "optfleet.natsUrl" . }}
{{- if ne $nats "" }}
- name: OPTFLEET_NATS_URL
  value: {{ $nats | quote }}
{{- end }}
{{- if .Values.externalNats.tls.caSecretName }}
- name: NODE_EXTRA_CA_CERTS
  value: /etc/optfleet/nats-tls/ca.crt
{{- end }}
{{- end }}

{{/* Volumes for the security knobs; call with the root context. */}}
{{- define "optfleet.volumes" -}}
- name: tmp
  emptyDir: {}
{{- if .Values.security.tls.secretName }}
- name: tls
  secret:
    secretName: {{ .Values.security.tls.secretName }}
{{- end }}
{{- if .Values.security.auth.tokenSecretName }}
- name: auth
  secret:
    secretName: {{ .Values.security.auth.tokenSecretName }}
    items:
      - key: {{ .Values.security.auth.tokenSecretKey }}
        path: token
{{- end }}
{{- if .Values.externalNats.tls.caSecretName }}
- name: nats-tls
  secret:
    secretName: {{ .Values.externalNats.tls.caSecretName }}
{{- end }}
{{- end }}

{{- define "optfleet.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.security.tls.secretName }}
- name: tls
  mountPath: /etc/optfleet/tls
  readOnly: true
{{- end }}
{{- if .Values.security.auth.tokenSecretName }}
- name: auth
  mountPath: /etc/optfleet/auth
  readOnly: true
{{- end }}
{{- if .Values.externalNats.tls.caSecretName }}
- name: nats-tls
  mountPath: /etc/optfleet/nats-tls
  readOnly: true
{{- end }}
{{- end }}
