{{/*
Names, labels and the pod template shared by the all-in-one StatefulSet
and the microservices' workloads.
*/}}

{{/* The chart's name. */}}
{{- define "takt.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-takt", or the release's name when it holds the chart's; at most 63 characters. */}}
{{- define "takt.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
A workload's name (and its Services' and PodDisruptionBudget's): at most 52
characters, since a StatefulSet's pods carry the label
controller-revision-hash "<name>-<10 characters>". dict root, process
(microservices; absent for all-in-one).
*/}}
{{- define "takt.workloadName" -}}
{{- if .process -}}
{{- printf "%s-%s" (include "takt.fullname" .root | trunc 29 | trimSuffix "-") .process -}}
{{- else -}}
{{- include "takt.fullname" .root | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The Service of every pod's admin port; a DNS label of at most 63 characters. */}}
{{- define "takt.metricsServiceName" -}}
{{- printf "%s-metrics" (include "takt.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}

{{- define "takt.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "microservices" when kafka.brokers is set, else "all-in-one". */}}
{{- define "takt.mode" -}}
{{- if .Values.kafka.brokers -}}microservices{{- else -}}all-in-one{{- end -}}
{{- end -}}

{{/* Labels of every object; dict root, component (optional). */}}
{{- define "takt.labels" -}}
{{- $root := .root -}}
helm.sh/chart: {{ include "takt.chart" $root }}
{{ include "takt.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
app.kubernetes.io/part-of: takt
{{- with $root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels; dict root, component (optional: all of the release's pods without it). */}}
{{- define "takt.selectorLabels" -}}
app.kubernetes.io/name: {{ include "takt.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{- define "takt.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "takt.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "takt.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "takt.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "takt.fullname" .)) .Values.tls.existingSecret -}}
{{- end -}}

{{- define "takt.signingKeySecretName" -}}
{{- if .Values.signingKey.existingSecret -}}
{{- .Values.signingKey.existingSecret -}}
{{- else if .Values.signingKey.create -}}
{{- printf "%s-signing-key" (include "takt.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/*
The Secret of the secret Kafka properties (kafka.propertiesSecret), in the
microservices mode: its name, the one create makes, or empty (no file).
*/}}
{{- define "takt.kafkaPropertiesSecretName" -}}
{{- $ps := default dict .Values.kafka.propertiesSecret -}}
{{- if eq (include "takt.mode" .) "microservices" -}}
{{- if $ps.name -}}
{{- $ps.name -}}
{{- else if $ps.create -}}
{{- printf "%s-kafka-properties" (include "takt.fullname" .) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Where the pods mount that Secret's key (kafka-properties-file). */}}
{{- define "takt.kafkaPropertiesDir" -}}/etc/takt/kafka-properties{{- end -}}
{{- define "takt.kafkaPropertiesFile" -}}{{ include "takt.kafkaPropertiesDir" . }}/kafka.properties{{- end -}}

{{/* terminationGracePeriodSeconds: the shutdown grace (rounded up) plus terminationGraceExtraSeconds. */}}
{{- define "takt.terminationGrace" -}}
{{- add (int (ceil .Values.config.shutdownGraceSeconds)) (int .Values.terminationGraceExtraSeconds) -}}
{{- end -}}

{{/* The JWT public key files: file names under /etc/takt/jwt. */}}
{{- define "takt.jwtKeyFiles" -}}
{{- if .Values.jwt.publicKeys -}}
{{- keys .Values.jwt.publicKeys | sortAlpha | toJson -}}
{{- else -}}
{{- .Values.jwt.keyFiles | default list | toJson -}}
{{- end -}}
{{- end -}}

{{/*
The microservices' processes, normalised, as JSON: name -> {services,
writer, owner, replicas, recordReads, persistence, emptyDirSizeLimit,
resources}. Disabled processes are left out. Refuses what cannot run:
an unknown or repeated service, audit away from enterprise and scheduling,
a writer with several replicas, without a claim or with another's owner.
*/}}
{{- define "takt.processes" -}}
{{- $known := list "enterprise" "scheduling" "rollups" "quality" "staffing" "budgets" "audit" -}}
{{- $out := dict -}}
{{- $seen := dict -}}
{{- $owners := dict -}}
{{- range $name, $p := .Values.microservices.processes -}}
{{- if and $p (ne (toString $p.enabled) "false") -}}
{{- if not (regexMatch "^[a-z]([a-z0-9-]{0,20}[a-z0-9])?$" $name) -}}
{{- fail (printf "microservices.processes.%s: a process's name is a DNS label of at most 22 characters ([a-z0-9-])" $name) -}}
{{- end -}}
{{- if has $name (list "metrics" "server") -}}
{{- fail (printf "microservices.processes.%s: %s is a name the chart uses itself (a Service, a component label)" $name $name) -}}
{{- end -}}
{{- if not (and (kindIs "slice" $p.services) $p.services) -}}
{{- fail (printf "microservices.processes.%s.services must be a list of some of %s" $name (join ", " $known)) -}}
{{- end -}}
{{- range $s := $p.services -}}
{{- if not (has $s $known) -}}
{{- fail (printf "microservices.processes.%s.services: unknown service %q (known: %s)" $name $s (join ", " $known)) -}}
{{- end -}}
{{- if hasKey $seen $s -}}
{{- fail (printf "microservices.processes.%s.services: %s already runs in process %s (each service in one process: two owners must not write one context)" $name $s (get $seen $s)) -}}
{{- end -}}
{{- $_ := set $seen $s $name -}}
{{- end -}}
{{- $recordReads := default $.Values.config.recordReads $p.recordReads -}}
{{- $writer := false -}}
{{- range $s := $p.services -}}
{{- if ne $s "rollups" -}}{{- $writer = true -}}{{- end -}}
{{- end -}}
{{- if and (has "rollups" $p.services) (has "kpis" (splitList "," (nospace $recordReads))) -}}
{{- $writer = true -}}
{{- end -}}
{{- $replicas := int (default 1 $p.replicas) -}}
{{- $persistence := default dict $p.persistence -}}
{{- $owner := "" -}}
{{- if $writer -}}
{{- $owner = default $name $p.owner -}}
{{- if ne $replicas 1 -}}
{{- fail (printf "microservices.processes.%s.replicas is %d: a process that writes (owner %s) runs one replica; a second one with the same owner fences the first" $name $replicas $owner) -}}
{{- end -}}
{{- if not $persistence.enabled -}}
{{- fail (printf "microservices.processes.%s.persistence.enabled is false: a process that writes keeps its signing key, cursor and (staffing) personal-data keys in its data directory, which must be a PersistentVolumeClaim" $name) -}}
{{- end -}}
{{- if hasKey $owners $owner -}}
{{- fail (printf "microservices.processes.%s.owner %q is also process %s's: each writing process needs its own Kafka owner (transactional id)" $name $owner (get $owners $owner)) -}}
{{- end -}}
{{- $_ := set $owners $owner $name -}}
{{- end -}}
{{- if lt $replicas 1 -}}
{{- fail (printf "microservices.processes.%s.replicas must be at least 1" $name) -}}
{{- end -}}
{{- $_ := set $out $name (dict "services" $p.services "writer" $writer "owner" $owner "replicas" $replicas "recordReads" $recordReads "persistence" $persistence "emptyDirSizeLimit" (default "" $p.emptyDirSizeLimit) "resources" (default dict $p.resources)) -}}
{{- end -}}
{{- end -}}
{{- if not $out -}}
{{- fail "microservices mode (kafka.brokers is set) but microservices.processes has no enabled process" -}}
{{- end -}}
{{- if hasKey $seen "audit" -}}
{{- $auditIn := get $seen "audit" -}}
{{- if or (ne (get $seen "enterprise" | default "") $auditIn) (ne (get $seen "scheduling" | default "") $auditIn) -}}
{{- fail (printf "microservices.processes.%s runs audit without enterprise and scheduling: audit reads through the owner of what it replays, so it runs in their process (--services enterprise,scheduling,audit)" $auditIn) -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Refuses values that cannot work; renders nothing. */}}
{{- define "takt.validate" -}}
{{- if eq (include "takt.mode" .) "all-in-one" -}}
{{- if ne (int .Values.replicaCount) 1 -}}
{{- fail (printf "replicaCount is %d: the all-in-one mode runs the embedded log, a single-writer RocksDB, in one pod; replicaCount must be 1 (set kafka.brokers for the microservices mode to scale out)" (int .Values.replicaCount)) -}}
{{- end -}}
{{- else -}}
{{- $_ := include "takt.processes" . -}}
{{- /* Secret librdkafka properties: never on the command line (kafka.properties), only in the file. */ -}}
{{- $secretKeys := list "sasl.password" "ssl.key.password" "ssl.keystore.password" "ssl.key.pem" "sasl.oauthbearer.client.secret" "sasl.oauthbearer.config" -}}
{{- range $i, $p := .Values.kafka.properties -}}
{{- if not (regexMatch "^[^=\\s]+=" (toString $p)) -}}
{{- fail (printf "kafka.properties[%d] %q is not key=value (e.g. security.protocol=SASL_SSL)" $i (toString $p)) -}}
{{- end -}}
{{- $k := splitList "=" (toString $p) | first -}}
{{- if has $k $secretKeys -}}
{{- fail (printf "kafka.properties[%d]: %s is a secret, and kafka.properties are on the command line (readable in /proc/<pid>/cmdline): put it in the Secret of kafka.propertiesSecret (a key=value line of the file kafka-properties-file)" $i $k) -}}
{{- end -}}
{{- end -}}
{{- $ps := default dict .Values.kafka.propertiesSecret -}}
{{- if $ps.create -}}
{{- if not $ps.properties -}}
{{- fail "kafka.propertiesSecret.create needs kafka.propertiesSecret.properties (property: \"value\", e.g. sasl.password)" -}}
{{- end -}}
{{- range $k, $val := $ps.properties -}}
{{- if not (regexMatch "^[A-Za-z0-9][A-Za-z0-9._-]*$" $k) -}}
{{- fail (printf "kafka.propertiesSecret.properties: %q is not a librdkafka property name" $k) -}}
{{- end -}}
{{- if not (kindIs "string" $val) -}}
{{- fail (printf "kafka.propertiesSecret.properties.%s must be a quoted string (YAML would rewrite a number or a boolean)" $k) -}}
{{- end -}}
{{- if regexMatch "[\\r\\n]" $val -}}
{{- fail (printf "kafka.propertiesSecret.properties.%s: a value is one line (the file holds key=value lines)" $k) -}}
{{- end -}}
{{- if ne $val (trim $val) -}}
{{- fail (printf "kafka.propertiesSecret.properties.%s starts or ends with whitespace, which takt serve drops from the file's values" $k) -}}
{{- end -}}
{{- end -}}
{{- else if $ps.properties -}}
{{- fail "kafka.propertiesSecret.properties is used only with kafka.propertiesSecret.create: true (for an existing Secret, put the key=value lines in its key kafka.propertiesSecret.key)" -}}
{{- end -}}
{{- if include "takt.kafkaPropertiesSecretName" . -}}
{{- if not (regexMatch "^[-._a-zA-Z0-9]+$" (default "" $ps.key)) -}}
{{- fail (printf "kafka.propertiesSecret.key %q is not a Secret's key ([-._a-zA-Z0-9]+)" (default "" $ps.key)) -}}
{{- end -}}
{{- end -}}
{{- range $i, $m := .Values.kafka.secretMounts -}}
{{- if not (and $m.secretName $m.mountPath) -}}
{{- fail (printf "kafka.secretMounts[%d] needs secretName and mountPath" $i) -}}
{{- end -}}
{{- if eq (trimSuffix "/" $m.mountPath) (include "takt.kafkaPropertiesDir" $) -}}
{{- fail (printf "kafka.secretMounts[%d].mountPath %s is where the chart mounts kafka.propertiesSecret" $i $m.mountPath) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if .Values.kafka.secretProperties -}}
{{- fail "kafka.secretProperties was removed: it put secrets on the command line. Put the properties as key=value lines (e.g. sasl.password=...) in a Secret's key and name it in kafka.propertiesSecret (name, key): the pods read it as a file (kafka-properties-file)" -}}
{{- end -}}
{{- if and .Values.insecure .Values.tls.enabled -}}
{{- fail "insecure and tls.enabled are both set: choose one (insecure is plaintext without authentication, a demo only)" -}}
{{- end -}}
{{- if not (or .Values.insecure .Values.tls.enabled) -}}
{{- fail "takt serve does not start without transport security: set tls.enabled (a kubernetes.io/tls Secret) or, for a demo only, insecure: true" -}}
{{- end -}}
{{- if and .Values.tls.enabled .Values.tls.create -}}
{{- $_ := required "tls.create needs tls.certificate (PEM)" .Values.tls.certificate -}}
{{- $_ := required "tls.create needs tls.key (PEM)" .Values.tls.key -}}
{{- if and .Values.tls.clientAuth.enabled (not .Values.tls.clientAuth.existingSecret) -}}
{{- $_ := required "tls.create with tls.clientAuth.enabled needs tls.clientCA (PEM) or tls.clientAuth.existingSecret" .Values.tls.clientCA -}}
{{- end -}}
{{- end -}}
{{- if .Values.signingKey.create -}}
{{- if not (regexMatch "^takt-ed25519-secret-v1 [0-9a-f]{64}\\s*$" (default "" .Values.signingKey.value)) -}}
{{- fail "signingKey.create needs signingKey.value: one line \"takt-ed25519-secret-v1 <64 hex digits>\"" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.jwt.existingConfigMap .Values.jwt.existingSecret -}}
{{- fail "jwt.existingConfigMap and jwt.existingSecret: choose one" -}}
{{- end -}}
{{- if and (or .Values.jwt.existingConfigMap .Values.jwt.existingSecret) (not .Values.jwt.keyFiles) -}}
{{- fail "jwt.existingConfigMap or jwt.existingSecret needs jwt.keyFiles: the names of the public key files in it" -}}
{{- end -}}
{{- range $key := list "data-dir" "listen" "admin-listen" "http-listen" "http-static" "services" "owner" "kafka-brokers" "kafka-property" "kafka-properties-file" "config" -}}
{{- if hasKey (default dict $.Values.config.extra) $key -}}
{{- fail (printf "config.extra.%s: the chart sets %s itself (ports.*, http.*, kafka.*, microservices.processes)" $key $key) -}}
{{- end -}}
{{- end -}}
{{- if lt (int .Values.terminationGraceExtraSeconds) 1 -}}
{{- fail "terminationGraceExtraSeconds must be at least 1: the pod's grace must outlast config.shutdownGraceSeconds" -}}
{{- end -}}
{{- end -}}

{{/*
A pod template. dict:
  root        the chart's context
  component   "server" (all-in-one) or the process's name
  process     the normalised process (microservices; absent for all-in-one)
  dataVolume  "claim" (a volumeClaimTemplate named data) or "emptyDir"
  resources   the container's resources
*/}}
{{- define "takt.podTemplate" -}}
{{- $root := .root -}}
{{- $v := $root.Values -}}
{{- $p := .process -}}
{{- $fullname := include "takt.fullname" $root -}}
metadata:
  labels:
    {{- include "takt.labels" (dict "root" $root "component" .component) | nindent 4 }}
    {{- with $v.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    {{- if or $v.tls.create $v.signingKey.create (and $p (default dict $v.kafka.propertiesSecret).create) }}
    checksum/secrets: {{ include (print $root.Template.BasePath "/secrets.yaml") $root | sha256sum }}
    {{- end }}
    {{- with $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "takt.serviceAccountName" $root }}
  automountServiceAccountToken: false
  enableServiceLinks: false
  terminationGracePeriodSeconds: {{ include "takt.terminationGrace" $root }}
  securityContext:
    {{- toYaml $v.podSecurityContext | nindent 4 }}
  {{- with $v.imagePullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . }}
    {{- end }}
  {{- end }}
  {{- with $v.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- if and (include "takt.signingKeySecretName" $root) (or (not $p) $p.writer) }}
  initContainers:
    # Seeds the data directory with the signing key of the Secret on the
    # first start; a key already there (an earlier start's, or one rotated
    # with takt log rotate-key) is kept.
    - name: seed-signing-key
      image: {{ include "takt.image" $root | quote }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      command:
        - /bin/sh
        - -c
        - |
          set -eu
          key=/var/lib/takt/keys/checkpoint.key
          if [ -e "$key" ]; then
            cmp -s /etc/takt/signing-key/{{ $v.signingKey.key }} "$key" ||
              echo "seed-signing-key: $key exists and differs from the Secret's key: kept"
            exit 0
          fi
          umask 077
          mkdir -p /var/lib/takt/keys
          : > "$key.imported"   # takt starts a key ring from an imported key
          cp /etc/takt/signing-key/{{ $v.signingKey.key }} "$key.new"
          mv "$key.new" "$key"
          echo "seed-signing-key: $key written from the Secret"
      resources:
        requests:
          cpu: 10m
          memory: 16Mi
        limits:
          memory: 64Mi
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      volumeMounts:
        - name: data
          mountPath: /var/lib/takt
        - name: signing-key
          mountPath: /etc/takt/signing-key
          readOnly: true
  {{- end }}
  containers:
    - name: takt
      image: {{ include "takt.image" $root | quote }}
      imagePullPolicy: {{ $v.image.pullPolicy }}
      {{- with $v.command }}
      command:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      args:
        - serve
        {{- if $p }}
        {{- range $v.kafka.properties }}
        - {{ printf "--kafka-property=%s" . | quote }}
        {{- end }}
        {{- end }}
      env:
        - name: TAKT_CONFIG
          value: /etc/takt/config/takt.yaml
        # The image sets these (deploy/container/Dockerfile); a variable wins over takt.yaml.
        - name: TAKT_DATA_DIR
          value: /var/lib/takt
        - name: TAKT_LISTEN
          value: {{ printf "0.0.0.0:%d" (int $v.ports.grpc) | quote }}
        - name: TAKT_ADMIN_LISTEN
          value: {{ printf "0.0.0.0:%d" (int $v.ports.admin) | quote }}
        # Empty: no HTTP (an empty variable counts as unset).
        - name: TAKT_HTTP_LISTEN
          value: {{ if $v.http.enabled }}{{ printf "0.0.0.0:%d" (int $v.ports.http) | quote }}{{ else }}""{{ end }}
        - name: TAKT_HTTP_STATIC
          value: {{ $v.http.staticDir | quote }}
        {{- if $p }}
        - name: TAKT_SERVICES
          value: {{ join "," $p.services | quote }}
        {{- if $p.owner }}
        - name: TAKT_OWNER
          value: {{ $p.owner | quote }}
        {{- end }}
        - name: TAKT_RECORD_READS
          value: {{ $p.recordReads | quote }}
        {{- end }}
        {{- if and $v.backups.enabled (eq .dataVolume "claim") }}
        - name: TAKT_BACKUP_ROOT
          value: /var/backups/takt
        {{- end }}
        {{- with $v.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        - name: grpc
          containerPort: {{ $v.ports.grpc }}
          protocol: TCP
        {{- if $v.http.enabled }}
        - name: http
          containerPort: {{ $v.ports.http }}
          protocol: TCP
        {{- end }}
        - name: admin
          containerPort: {{ $v.ports.admin }}
          protocol: TCP
      startupProbe:
        httpGet:
          path: /livez
          port: admin
        periodSeconds: {{ $v.probes.startup.periodSeconds }}
        failureThreshold: {{ $v.probes.startup.failureThreshold }}
        timeoutSeconds: {{ $v.probes.startup.timeoutSeconds }}
      livenessProbe:
        httpGet:
          path: /livez
          port: admin
        periodSeconds: {{ $v.probes.liveness.periodSeconds }}
        failureThreshold: {{ $v.probes.liveness.failureThreshold }}
        timeoutSeconds: {{ $v.probes.liveness.timeoutSeconds }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: admin
        periodSeconds: {{ $v.probes.readiness.periodSeconds }}
        failureThreshold: {{ $v.probes.readiness.failureThreshold }}
        timeoutSeconds: {{ $v.probes.readiness.timeoutSeconds }}
      {{- with .resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- toYaml $v.securityContext | nindent 8 }}
      volumeMounts:
        - name: data
          mountPath: /var/lib/takt
        - name: tmp
          mountPath: /tmp
        - name: config
          mountPath: /etc/takt/config
          readOnly: true
        {{- if $v.tls.enabled }}
        - name: tls
          mountPath: /etc/takt/tls
          readOnly: true
        {{- if and $v.tls.clientAuth.enabled $v.tls.clientAuth.existingSecret }}
        - name: client-ca
          mountPath: /etc/takt/client-ca
          readOnly: true
        {{- end }}
        {{- end }}
        {{- if or $v.jwt.publicKeys $v.jwt.existingConfigMap $v.jwt.existingSecret }}
        - name: jwt
          mountPath: /etc/takt/jwt
          readOnly: true
        {{- end }}
        {{- if and $v.backups.enabled (eq .dataVolume "claim") }}
        - name: backups
          mountPath: /var/backups/takt
        {{- end }}
        {{- if $p }}
        {{- if include "takt.kafkaPropertiesSecretName" $root }}
        # The secret Kafka properties, a file (kafka-properties-file in takt.yaml).
        - name: kafka-properties
          mountPath: {{ include "takt.kafkaPropertiesDir" $root }}
          readOnly: true
        {{- end }}
        {{- range $i, $m := $v.kafka.secretMounts }}
        - name: kafka-{{ $i }}
          mountPath: {{ $m.mountPath }}
          readOnly: true
        {{- end }}
        {{- end }}
        {{- with $v.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    {{- if eq .dataVolume "emptyDir" }}
    - name: data
      emptyDir:
        {{- with .emptyDirSizeLimit }}
        sizeLimit: {{ . }}
        {{- else }} {}
        {{- end }}
    {{- end }}
    - name: tmp
      emptyDir:
        sizeLimit: 1Gi
    - name: config
      configMap:
        name: {{ $fullname }}-config
    {{- if $v.tls.enabled }}
    - name: tls
      secret:
        secretName: {{ include "takt.tlsSecretName" $root }}
        defaultMode: 288  # 0440
    {{- if and $v.tls.clientAuth.enabled $v.tls.clientAuth.existingSecret }}
    - name: client-ca
      secret:
        secretName: {{ $v.tls.clientAuth.existingSecret }}
        defaultMode: 288  # 0440
    {{- end }}
    {{- end }}
    {{- if $v.jwt.publicKeys }}
    - name: jwt
      configMap:
        name: {{ $fullname }}-jwt
    {{- else if $v.jwt.existingConfigMap }}
    - name: jwt
      configMap:
        name: {{ $v.jwt.existingConfigMap }}
    {{- else if $v.jwt.existingSecret }}
    - name: jwt
      secret:
        secretName: {{ $v.jwt.existingSecret }}
        defaultMode: 288  # 0440
    {{- end }}
    {{- with include "takt.signingKeySecretName" $root }}
    {{- if or (not $p) $p.writer }}
    - name: signing-key
      secret:
        secretName: {{ . }}
        defaultMode: 288  # 0440
    {{- end }}
    {{- end }}
    {{- if $p }}
    {{- with include "takt.kafkaPropertiesSecretName" $root }}
    - name: kafka-properties
      secret:
        secretName: {{ . }}
        # Only the properties key, as kafka.properties; readable by the
        # group (fsGroup), not by others.
        items:
          - key: {{ $v.kafka.propertiesSecret.key | quote }}
            path: {{ base (include "takt.kafkaPropertiesFile" $root) }}
        defaultMode: 288  # 0440
    {{- end }}
    {{- range $i, $m := $v.kafka.secretMounts }}
    - name: kafka-{{ $i }}
      secret:
        secretName: {{ $m.secretName }}
        defaultMode: 288  # 0440
    {{- end }}
    {{- end }}
    {{- with $v.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $v.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{/* volumeClaimTemplates of a StatefulSet; dict root, persistence ({size, storageClassName, accessModes, annotations}). */}}
{{- define "takt.volumeClaimTemplates" -}}
{{- $root := .root -}}
{{- $pv := .persistence -}}
- metadata:
    name: data
    {{- with $pv.annotations }}
    annotations:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  spec:
    accessModes:
      {{- toYaml (default (list "ReadWriteOnce") $pv.accessModes) | nindent 6 }}
    {{- with $pv.storageClassName }}
    storageClassName: {{ . }}
    {{- end }}
    resources:
      requests:
        storage: {{ required "persistence size is required" $pv.size }}
{{- if $root.Values.backups.enabled }}
- metadata:
    name: backups
  spec:
    accessModes:
      - ReadWriteOnce
    {{- with $root.Values.backups.storageClassName }}
    storageClassName: {{ . }}
    {{- end }}
    resources:
      requests:
        storage: {{ $root.Values.backups.size }}
{{- end }}
{{- end -}}
