{{- define "baton.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "baton.labels" -}}
app.kubernetes.io/name: baton
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "baton.selectorLabels" -}}
app.kubernetes.io/name: baton
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- /* The console's pods: not matched by the agent's Deployment, Service, PDB or NetworkPolicy selectors. */}}
{{- define "baton.consoleSelectorLabels" -}}
app.kubernetes.io/name: baton-console
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "baton.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}{{ default (include "baton.fullname" .) .Values.serviceAccount.name }}{{- else -}}{{ default "default" .Values.serviceAccount.name }}{{- end -}}
{{- end -}}

{{- define "baton.image" -}}
{{- if .Values.image.digest -}}{{ .Values.image.repository }}@{{ .Values.image.digest }}{{- else -}}{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}{{- end -}}
{{- end -}}

{{- define "baton.webhookSecretName" -}}
{{- if .Values.webhook.existingSecret -}}{{ .Values.webhook.existingSecret }}{{- else -}}{{ include "baton.fullname" . }}-webhook{{- end -}}
{{- end -}}

{{/* Rules every mode needs on Environments, their credentials and events. */}}
{{- define "baton.environmentRules" -}}
- apiGroups: [baton.dev]
  resources: [environments]
  # patch: a standby replica that receives a webhook annotates the Environment for the leader.
  verbs: [get, list, watch, patch]
- apiGroups: [baton.dev]
  resources: [environments/status]
  verbs: [get, patch, update]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- if .Values.defaultServiceAccount }}
# Impersonation for all: the agent writes no Environment's objects as itself, only as the ServiceAccount
# each Environment names (or defaultServiceAccount), so those ServiceAccounts' RBAC is the limit.
- apiGroups: [""]
  resources: [serviceaccounts]
  verbs: [impersonate]
# The git credentials Secret (spec.secretRef) is read by the agent itself, as Flux's source-controller does.
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
{{- else }}
{{- range .Values.rbac.managedResources }}
- apiGroups: {{ toJson .apiGroups }}
  resources: {{ toJson .resources }}
  verbs: [get, list, watch, create, patch, update, delete]
{{- end }}
{{- end }}
{{- end -}}
