{{/* Labels every object of the release carries. */}}
{{- define "ztmesh.labels" -}}
app.kubernetes.io/part-of: ztmesh
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* Selector labels of one component: include with (dict "root" $ "component" "ca"). */}}
{{- define "ztmesh.selector" -}}
app.kubernetes.io/name: ztmesh-{{ .component }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{- define "ztmesh.image" -}}
{{ printf "%s:%s" .Values.image.repository .Values.image.tag | quote }}
{{- end }}

{{/* The restricted Pod Security standard, pod level. UID 65532 is the image's non-root user. */}}
{{- define "ztmesh.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The restricted Pod Security standard, container level. */}}
{{- define "ztmesh.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* DNS egress (kube-dns / CoreDNS in kube-system), for NetworkPolicies. */}}
{{- define "ztmesh.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - { protocol: UDP, port: 53 }
    - { protocol: TCP, port: 53 }
{{- end }}

{{/* Egress to the Kubernetes API server, for NetworkPolicies. */}}
{{- define "ztmesh.apiServerEgress" -}}
- to:
  {{- range .Values.networkPolicy.apiServerCidrs }}
    - ipBlock:
        cidr: {{ . }}
  {{- end }}
  ports:
    - { protocol: TCP, port: {{ .Values.networkPolicy.apiServerPort }} }
{{- end }}
