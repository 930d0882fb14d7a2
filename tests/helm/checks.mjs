// What the chart promises, checked on its rendered manifests.
//
//   node tests/helm/checks.mjs --mode all-in-one|microservices
//        [--kinds Kind,Kind...] [--takt TAKT_BINARY] [--image-env DOCKERFILE] FILE
//
// For every takt container, with its settings as takt serve would see them
// (the ConfigMap's takt.yaml, overridden by the TAKT_* variables of the
// image, read from the Dockerfile's ENV lines, and of the container):
// probes (startup and liveness GET /livez, readiness GET
// /readyz, on the admin port that admin-listen names), the listen ports are
// the container's, terminationGracePeriodSeconds above shutdown-grace, the
// security context (non-root uid 10001, read-only root, no capabilities,
// seccomp RuntimeDefault), resources, every file the settings name mounted,
// $(VAR) references defined. All-in-one: one StatefulSet, one replica,
// the data directory on its volumeClaimTemplate. Microservices: each
// service in one process at most, audit with enterprise and scheduling,
// every writer a one-replica StatefulSet with its data directory (signing
// key, cursor, personal-data keys) on a claim and an owner of its own.
// PodDisruptionBudgets, the NetworkPolicy and the ServiceMonitor select
// what they should. Kafka secrets (sasl.password, ...) are in no container's
// command, arguments or environment (no $(KAFKA_SECRET...) expansion, no
// variable from a Secret) and in no ConfigMap: a kafka-properties-file is a
// key of a Secret mounted read-only, readable by the pod's fsGroup and no
// one else, of key=value lines when the chart makes it; SASL PLAIN or SCRAM
// needs that file (the password). With --takt, takt serve parses each container's
// arguments, environment and takt.yaml (`takt serve ... --help` exits 2 on
// an unknown key, a bad value or a list for a single flag).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { parse } from "yaml";
import { readManifests, describe } from "./manifests.mjs";

const args = process.argv.slice(2);
const opt = { mode: null, kinds: [], takt: null, imageEnv: null, file: null };
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--mode") opt.mode = args[++i];
  else if (args[i] === "--kinds") opt.kinds = args[++i].split(",").map((s) => s.trim()).filter(Boolean);
  else if (args[i] === "--takt") opt.takt = args[++i];
  else if (args[i] === "--image-env") opt.imageEnv = args[++i];
  else opt.file = args[i];
}
if (!opt.file || !["all-in-one", "microservices"].includes(opt.mode)) {
  console.error("usage: node checks.mjs --mode all-in-one|microservices [--kinds K,K] [--takt BIN] FILE");
  process.exit(2);
}

// The image's TAKT_* variables (Dockerfile ENV lines): the pod's own win over them.
const imageEnv = new Map();
if (opt.imageEnv) {
  const text = readFileSync(opt.imageEnv, "utf8").replace(/\\\n/g, " ");
  for (const line of text.split("\n").filter((l) => /^ENV\s/.test(l))) {
    for (const [, k, v] of line.matchAll(/\b(TAKT_[A-Z_]+)=("[^"]*"|\S*)/g)) imageEnv.set(k, v.replace(/^"|"$/g, ""));
  }
}

// librdkafka properties that hold secrets: never on a command line or in the environment.
const SECRET_PROPERTIES = ["sasl.password", "ssl.key.password", "ssl.keystore.password", "ssl.key.pem",
  "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config"];
const SECRET_MARKERS = [...SECRET_PROPERTIES, "$(KAFKA_SECRET", "KAFKA_SECRET_PROPERTY"];
const secretIn = (text) => SECRET_MARKERS.filter((m) => String(text ?? "").includes(m));
// A librdkafka properties file as takt serve reads it: key=value lines, '#'
// or '!' comments, blank lines; whitespace around keys and values dropped.
function parseProperties(text) {
  const props = new Map();
  const bad = [];
  String(text).split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith("!")) return;
    const eq = line.indexOf("=");
    if (eq <= 0 || line.slice(0, eq).trim() === "") bad.push(`line ${i + 1}`);
    else props.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  });
  return { props, bad };
}

const ALL_SERVICES = ["enterprise", "scheduling", "rollups", "quality", "staffing", "budgets", "audit"];
let passed = 0;
const failures = [];
function check(ok, what) {
  if (ok) passed++;
  else failures.push(what);
  return ok;
}

const docs = readManifests(opt.file);
const objs = docs.map((d) => d.obj);
const byKind = (k) => docs.filter((d) => d.obj.kind === k);
const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

for (const k of opt.kinds) check(byKind(k).length > 0, `expected at least one ${k}`);

const configMaps = new Map(byKind("ConfigMap").map((d) => [d.obj.metadata.name, d.obj]));
const secrets = new Map(byKind("Secret").map((d) => [d.obj.metadata.name, d.obj]));
const secretText = (secret, key) => secret?.stringData?.[key]
  ?? (secret?.data?.[key] !== undefined ? Buffer.from(secret.data[key], "base64").toString("utf8") : undefined);
for (const cm of byKind("ConfigMap")) {
  const found = Object.values(cm.obj.data ?? {}).flatMap(secretIn);
  check(found.length === 0, `${describe(cm)}: holds no Kafka secret (has ${found.join(", ")})`);
}
const workloads = docs.filter((d) => ["StatefulSet", "Deployment", "DaemonSet", "Pod", "ReplicaSet", "Job", "CronJob"].includes(d.obj.kind));
check(workloads.every((w) => ["StatefulSet", "Deployment"].includes(w.obj.kind)), "only StatefulSets and Deployments run takt");
check(workloads.length > 0, "at least one workload");

const portOf = (address) => Number(String(address ?? "").split(":").pop());
const owners = new Map();
const serviceProcess = new Map();
const tmp = mkdtempSync(join(tmpdir(), "takt-helm-checks-"));

for (const w of workloads) {
  const o = w.obj;
  const where = describe(w);
  const pod = o.spec.template.spec;
  const c = (pod.containers ?? []).find((x) => x.name === "takt");
  if (!check(c !== undefined, `${where}: has a container named takt`)) continue;

  // The settings takt serve sees: takt.yaml, then TAKT_* variables.
  const env = new Map((c.env ?? []).map((e) => [e.name, e]));
  const configPath = env.get("TAKT_CONFIG")?.value;
  const configVolume = (c.volumeMounts ?? []).find((m) => configPath && configPath.startsWith(`${m.mountPath}/`));
  const configMapName = (pod.volumes ?? []).find((v) => v.name === configVolume?.name)?.configMap?.name;
  const configText = configMaps.get(configMapName)?.data?.[posix.basename(configPath ?? "")];
  if (!check(typeof configText === "string", `${where}: TAKT_CONFIG (${configPath}) is a file of a ConfigMap of the chart`)) continue;
  const config = parse(configText, { version: "1.1" }) ?? {};
  // A variable the pod sets hides the image's; an empty one counts as unset.
  const setting = (name) => {
    const variable = `TAKT_${name.toUpperCase().replace(/-/g, "_")}`;
    const value = env.has(variable) ? env.get(variable).value : imageEnv.get(variable);
    if (value !== undefined && value !== "") return value;
    return config[name];
  };

  // Probes on the admin port.
  const ports = new Map((c.ports ?? []).map((p) => [p.name, p.containerPort]));
  const adminPort = portOf(setting("admin-listen"));
  check(adminPort > 0 && ports.get("admin") === adminPort, `${where}: container port "admin" is admin-listen's (${setting("admin-listen")})`);
  check(ports.get("grpc") === portOf(setting("listen")), `${where}: container port "grpc" is listen's (${setting("listen")})`);
  if (setting("http-listen")) check(ports.get("http") === portOf(setting("http-listen")), `${where}: container port "http" is http-listen's`);
  const probe = (name, path) => {
    const p = c[name];
    check(p?.httpGet?.path === path && (p.httpGet.port === "admin" || p.httpGet.port === adminPort),
      `${where}: ${name} is GET ${path} on the admin port (has ${JSON.stringify(p?.httpGet)})`);
    return p;
  };
  const startup = probe("startupProbe", "/livez");
  probe("livenessProbe", "/livez");
  probe("readinessProbe", "/readyz");
  check((startup?.periodSeconds ?? 10) * (startup?.failureThreshold ?? 3) >= 600,
    `${where}: the startup probe allows at least 10 minutes (opening a large log)`);

  // Shutdown: the pod's grace outlasts the server's.
  const grace = Number(setting("shutdown-grace") ?? 10);
  check(Number.isInteger(pod.terminationGracePeriodSeconds) && pod.terminationGracePeriodSeconds > grace,
    `${where}: terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} > shutdown-grace ${grace}`);

  // Security context.
  const sc = { ...(pod.securityContext ?? {}), ...(c.securityContext ?? {}) };
  check(sc.runAsNonRoot === true && sc.runAsUser === 10001, `${where}: runs as non-root uid 10001`);
  check(c.securityContext?.readOnlyRootFilesystem === true, `${where}: read-only root filesystem`);
  check(c.securityContext?.allowPrivilegeEscalation === false, `${where}: no privilege escalation`);
  check((c.securityContext?.capabilities?.drop ?? []).includes("ALL") && !(c.securityContext?.capabilities?.add ?? []).length,
    `${where}: drops ALL capabilities`);
  check(sc.seccompProfile?.type === "RuntimeDefault", `${where}: seccomp RuntimeDefault`);
  check(pod.automountServiceAccountToken === false, `${where}: no service account token`);
  check(o.spec.template.metadata?.annotations?.["checksum/config"]?.length === 64, `${where}: restarts when the config changes (checksum/config)`);

  // Resources.
  const r = c.resources ?? {};
  check(r.requests?.cpu !== undefined && r.requests?.memory !== undefined && r.limits?.memory !== undefined,
    `${where}: CPU and memory requests and a memory limit`);

  // Mounts: the data directory, /tmp, every file the settings name.
  const mountFor = (path) => (c.volumeMounts ?? [])
    .filter((m) => path === m.mountPath || path.startsWith(`${m.mountPath.replace(/\/$/, "")}/`))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  const dataDir = setting("data-dir");
  const dataMount = (c.volumeMounts ?? []).find((m) => m.mountPath === dataDir);
  check(dataMount !== undefined, `${where}: the data directory ${dataDir} is a volume`);
  check(mountFor("/tmp/x") !== undefined, `${where}: /tmp is a volume (read-only root)`);
  const claims = new Set((o.spec.volumeClaimTemplates ?? []).map((t) => t.metadata.name));
  const dataOnClaim = o.kind === "StatefulSet" && claims.has(dataMount?.name);
  const files = ["tls-cert", "tls-key", "tls-client-ca"].map(setting).concat([].concat(setting("jwt-public-key") ?? []))
    .filter(Boolean);
  for (const f of files) check(mountFor(f) !== undefined && mountFor(f) !== dataMount, `${where}: ${f} is mounted`);
  // A signing key from a Secret: seeded into the data directory by an init container.
  for (const ic of pod.initContainers ?? []) {
    const isc = ic.securityContext ?? {};
    check(isc.readOnlyRootFilesystem === true && isc.allowPrivilegeEscalation === false && (isc.capabilities?.drop ?? []).includes("ALL"),
      `${where}: init container ${ic.name}: read-only root, no escalation, no capabilities`);
    check(ic.resources?.limits?.memory !== undefined, `${where}: init container ${ic.name}: a memory limit`);
  }
  const seed = (pod.initContainers ?? []).find((x) => x.name === "seed-signing-key");
  if (seed) {
    const seedData = (seed.volumeMounts ?? []).find((m) => m.mountPath === dataDir);
    const secretMount = (seed.volumeMounts ?? []).find((m) => (pod.volumes ?? []).find((v) => v.name === m.name)?.secret);
    check(seedData?.name === dataMount?.name && secretMount !== undefined,
      `${where}: seed-signing-key copies a Secret into the data directory's volume`);
    // Run its script on directories of our own: it writes the key when
    // there is none and keeps one that is there.
    const dir = mkdtempSync(join(tmp, "seed-"));
    const script = String(seed.command?.at(-1) ?? "")
      .replaceAll(dataDir, `${dir}/data`).replaceAll(secretMount?.mountPath ?? "\0", `${dir}/secret`);
    const keyName = script.match(/\/secret\/([^\s"]+)/)?.[1];
    mkdirSync(`${dir}/data`);
    mkdirSync(`${dir}/secret`);
    writeFileSync(`${dir}/secret/${keyName}`, "takt-ed25519-secret-v1 " + "ab".repeat(32) + "\n");
    const first = spawnSync(seed.command[0], [...seed.command.slice(1, -1), script], { encoding: "utf8" });
    const written = first.status === 0 ? readFileSync(`${dir}/data/keys/checkpoint.key`, "utf8") : null;
    const mode = first.status === 0 ? statSync(`${dir}/data/keys/checkpoint.key`).mode & 0o777 : 0;
    check(written === readFileSync(`${dir}/secret/${keyName}`, "utf8") && mode === 0o600,
      `${where}: seed-signing-key writes the Secret's key to <data dir>/keys/checkpoint.key (0600) ${first.stderr ?? ""}`);
    check(first.status === 0 && existsSync(`${dir}/data/keys/checkpoint.key.imported`),
      `${where}: seed-signing-key marks the key as imported (takt starts its key ring from it)`);
    writeFileSync(`${dir}/data/keys/checkpoint.key`, "takt-ed25519-secret-v1 " + "cd".repeat(32) + "\n");
    const second = spawnSync(seed.command[0], [...seed.command.slice(1, -1), script], { encoding: "utf8" });
    check(second.status === 0 && readFileSync(`${dir}/data/keys/checkpoint.key`, "utf8").includes("cd".repeat(32)),
      `${where}: seed-signing-key keeps a key already there (a rotated one) ${second.stderr ?? ""}`);
  }
  check(!(c.volumeMounts ?? []).some((m) => m.mountPath.startsWith(`${dataDir}/`)), `${where}: nothing mounted inside the data directory`);
  if (setting("insecure") === true || setting("insecure") === "true") {
    check(!setting("tls-cert"), `${where}: insecure without TLS settings`);
  } else {
    check(Boolean(setting("tls-cert") && setting("tls-key")), `${where}: TLS (tls-cert, tls-key) unless insecure`);
  }

  // $(VAR) in the arguments: defined before use, or Kubernetes passes it literally.
  for (const a of c.args ?? []) {
    for (const [, v] of String(a).matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
      check(env.has(v), `${where}: argument ${a} refers to $(${v}), an environment variable of the container`);
    }
  }
  check(c.args?.[0] === "serve", `${where}: runs takt serve`);

  // No secret on a command line or in the environment, in any container.
  for (const x of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
    const found = [];
    for (const a of [...(x.command ?? []), ...(x.args ?? [])]) found.push(...secretIn(a).map((m) => `argument ${a} (${m})`));
    for (const e of x.env ?? []) {
      found.push(...secretIn(e.name).concat(secretIn(e.value)).map((m) => `variable ${e.name} (${m})`));
      if (e.valueFrom?.secretKeyRef) found.push(`variable ${e.name} from Secret ${e.valueFrom.secretKeyRef.name}`);
    }
    for (const e of x.envFrom ?? []) if (e.secretRef) found.push(`envFrom Secret ${e.secretRef.name}`);
    check(found.length === 0, `${where}: container ${x.name}: no secret in its command line or environment (found: ${found.join("; ")})`);
  }

  // The Kafka properties file: a key of a Secret, mounted read-only, readable by the pod's group only.
  const kafkaArgs = new Map((c.args ?? []).map(String).filter((a) => a.startsWith("--kafka-property="))
    .map((a) => a.slice("--kafka-property=".length).split(/=(.*)/s).slice(0, 2)));
  const propertiesFile = setting("kafka-properties-file");
  if (/^(PLAIN|SCRAM-SHA-256|SCRAM-SHA-512)$/.test(kafkaArgs.get("sasl.mechanism") ?? "")) {
    check(Boolean(propertiesFile), `${where}: SASL ${kafkaArgs.get("sasl.mechanism")} has its password in a kafka-properties-file`);
  }
  if (propertiesFile) {
    const m = mountFor(propertiesFile);
    const vol = (pod.volumes ?? []).find((v) => v.name === m?.name);
    const rel = m ? posix.relative(m.mountPath, propertiesFile) : "";
    const items = vol?.secret?.items;
    const item = items?.find((i) => i.path === rel);
    const key = items ? item?.key : rel;
    check(m !== undefined && m !== dataMount && m.readOnly === true && m.subPath === undefined,
      `${where}: kafka-properties-file ${propertiesFile} is on a read-only mount of its own`);
    if (check(vol?.secret?.secretName !== undefined && key !== undefined,
      `${where}: kafka-properties-file ${propertiesFile} is a key of a Secret (volume ${m?.name}: ${JSON.stringify(vol)})`)) {
      check(vol.secret.optional !== true, `${where}: the Kafka properties Secret is not optional (no start without the password)`);
      const mode = item?.mode ?? vol.secret.defaultMode ?? 0o644;
      check((mode & 0o007) === 0 && (mode & 0o222) === 0, `${where}: kafka-properties-file is not world-readable nor writable (mode ${mode.toString(8)})`);
      check((mode & 0o040) !== 0 && pod.securityContext?.fsGroup !== undefined && sc.runAsUser !== 0,
        `${where}: kafka-properties-file is readable by uid ${sc.runAsUser} through fsGroup ${pod.securityContext?.fsGroup} (mode ${mode.toString(8)})`);
      const secret = secrets.get(vol.secret.secretName);
      if (secret) {
        const text = secretText(secret, key);
        if (check(typeof text === "string", `${where}: Secret ${vol.secret.secretName} has the key ${key}`)) {
          const { props, bad } = parseProperties(text);
          check(bad.length === 0 && props.size > 0, `${where}: Secret ${vol.secret.secretName} key ${key} is key=value lines (bad: ${bad.join(", ")})`);
          if (kafkaArgs.has("sasl.mechanism")) check(props.has("sasl.password"), `${where}: Secret ${vol.secret.secretName} holds sasl.password`);
        }
      }
    }
  }

  // Which services, and does it write?
  const brokers = setting("kafka-brokers");
  const services = setting("services") ? String(setting("services")).split(",").map((s) => s.trim()) : ALL_SERVICES;
  const reads = String(setting("record-reads") ?? "audit,personal-data").split(",").map((s) => s.trim());
  const writer = services.some((s) => s !== "rollups") || (services.includes("rollups") && reads.includes("kpis"));
  if (opt.mode === "all-in-one") {
    check(!brokers && !setting("services") && !setting("kafka-properties-file"), `${where}: all-in-one: the embedded log, every service`);
    check(o.kind === "StatefulSet" && o.spec.replicas === 1, `${where}: all-in-one: a StatefulSet of one replica`);
    const claim = (o.spec.volumeClaimTemplates ?? []).find((t) => t.metadata.name === dataMount?.name);
    check(dataOnClaim && claim?.spec?.resources?.requests?.storage !== undefined,
      `${where}: all-in-one: the data directory ${dataDir} is the volumeClaimTemplate "${dataMount?.name}"`);
  } else {
    check(Boolean(brokers), `${where}: microservices: kafka-brokers set`);
    check(Boolean(setting("services")), `${where}: microservices: TAKT_SERVICES names its services`);
    for (const s of services) {
      check(ALL_SERVICES.includes(s), `${where}: knows service ${s}`);
      check(!serviceProcess.has(s), `${where}: ${s} runs in one process only (also in ${serviceProcess.get(s)})`);
      serviceProcess.set(s, where);
    }
    if (services.includes("audit")) {
      check(services.includes("enterprise") && services.includes("scheduling"), `${where}: audit runs with enterprise and scheduling`);
    }
    if (writer) {
      const owner = env.get("TAKT_OWNER")?.value;
      check(Boolean(owner), `${where}: a writer names its owner (TAKT_OWNER)`);
      check(!owners.has(owner), `${where}: owner ${owner} is its own (also ${owners.get(owner)})`);
      owners.set(owner, where);
      check(o.kind === "StatefulSet" && o.spec.replicas === 1 && o.spec.podManagementPolicy !== "Parallel",
        `${where}: a writer is a StatefulSet of one replica, one pod at a time`);
      check(dataOnClaim, `${where}: a writer keeps its data directory (signing key, cursor, personal-data keys) on a claim, not an emptyDir`);
    } else {
      check(!env.has("TAKT_OWNER"), `${where}: a process that writes nothing takes no owner`);
      const vol = (pod.volumes ?? []).find((v) => v.name === dataMount?.name);
      check(dataOnClaim || vol?.emptyDir !== undefined, `${where}: the rollups store on a claim or an emptyDir`);
    }
  }

  // takt serve itself parses what the container gives it.
  if (opt.takt) {
    const file = join(tmp, `${o.metadata.name}.yaml`);
    writeFileSync(file, configText);
    const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("TAKT_")));
    for (const [k, v] of imageEnv) childEnv[k] = v;
    for (const e of c.env ?? []) childEnv[e.name] = e.value ?? "from-a-secret";
    childEnv.TAKT_CONFIG = file;
    const argv = (c.args ?? []).map((a) => String(a).replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_, v) => childEnv[v] ?? ""));
    const run = spawnSync(opt.takt, [...argv, "--help"], { env: childEnv, encoding: "utf8", timeout: 20000 });
    check(run.status === 0, `${where}: takt ${argv.join(" ")} accepts its settings: exit ${run.status} ${run.stderr?.trim() ?? ""}`);
  }
}
rmSync(tmp, { recursive: true, force: true });

if (opt.mode === "all-in-one") {
  check(workloads.length === 1 && workloads[0].obj.kind === "StatefulSet", "all-in-one: exactly one workload, a StatefulSet");
} else {
  check(owners.size > 0, "microservices: at least one writer");
}

// PodDisruptionBudgets select one workload each.
for (const p of byKind("PodDisruptionBudget")) {
  const n = workloads.filter((w) => matches(p.obj.spec.selector?.matchLabels, w.obj.spec.template.metadata.labels)).length;
  check(n === 1, `${describe(p)}: selects one workload (selects ${n})`);
}

// The NetworkPolicy: every pod; ingress only on named ports; the admin port only from given peers.
for (const np of byKind("NetworkPolicy")) {
  const spec = np.obj.spec;
  const covered = workloads.filter((w) => matches(spec.podSelector?.matchLabels, w.obj.spec.template.metadata.labels));
  check(covered.length === workloads.length, `${describe(np)}: applies to every workload`);
  check((spec.policyTypes ?? []).includes("Ingress"), `${describe(np)}: restricts ingress`);
  for (const rule of spec.ingress ?? []) {
    check((rule.ports ?? []).length > 0, `${describe(np)}: every ingress rule names its ports`);
    const names = (rule.ports ?? []).map((p) => p.port);
    if (names.includes("admin")) {
      check(names.length === 1 && (rule.from ?? []).length > 0 && rule.from.every((f) => f.namespaceSelector || f.podSelector),
        `${describe(np)}: the admin port only from the monitoring peers`);
    }
    for (const name of names.filter((x) => typeof x === "string")) {
      check(workloads.every((w) => w.obj.spec.template.spec.containers.some((c) => (c.ports ?? []).some((p) => p.name === name))),
        `${describe(np)}: port ${name} is a port of every pod`);
    }
  }
  if ((spec.policyTypes ?? []).includes("Egress") && opt.mode === "microservices") {
    check((spec.egress ?? []).some((e) => (e.ports ?? []).some((p) => p.port === 9092 || p.port === 9093)),
      `${describe(np)}: egress to the Kafka brokers`);
  }
}

// The ServiceMonitor scrapes the admin port through a Service of the release.
for (const sm of byKind("ServiceMonitor")) {
  const spec = sm.obj.spec;
  const nsOK = (svc) => (spec.namespaceSelector?.matchNames ?? [sm.obj.metadata.namespace]).includes(svc.metadata.namespace);
  const svcs = objs.filter((o) => o.kind === "Service" && nsOK(o) && matches(spec.selector?.matchLabels, o.metadata.labels));
  check(svcs.length === 1, `${describe(sm)}: selects one Service (selects ${svcs.length})`);
  for (const ep of spec.endpoints ?? []) {
    check(svcs.every((s) => s.spec.ports.some((p) => p.name === ep.port && p.targetPort === "admin")) && ep.path === "/metrics",
      `${describe(sm)}: scrapes /metrics on the admin port`);
  }
}

if (failures.length > 0) {
  console.error(`checks: ${failures.length} failed:`);
  for (const f of failures) console.error(`  - ${f}`);
}
console.log(`checks: ${passed} passed, ${failures.length} failed`);
process.exit(failures.length > 0 ? 1 : 0);
