// Validates rendered manifests against Kubernetes' schemas.
//
//   node tests/helm/validate.mjs FILE...
//
// Each document's apiVersion and kind must name a model of the npm packages
// kubernetes-models (the built-in API, OpenAPI schemas of Kubernetes) or
// @kubernetes-models/prometheus-operator (monitoring.coreos.com, its CRDs'
// schemas): an unknown apiVersion or kind fails. The document is checked
// with that model's schema validator (types, required fields, enums,
// formats) and, as `kubectl apply --validate=strict` does, for fields the
// schema does not know (a typo such as readinesProbe): the validator reads
// every field its schema knows, so a field of an object it never read is
// unknown (objects it walks as maps, such as labels, and free-form ones are
// exempt). Then what the API server also refuses: names, label keys and
// values, two objects of one kind and name, a selector its template's
// labels do not match, a StatefulSet name too long for its pods' labels,
// a mount of a volume that is not there, duplicate
// container, port and volume names, a Service port naming no container port.
// Exits 1 naming each problem.
import { readManifests, describe } from "./manifests.mjs";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE...");
  process.exit(2);
}

// apiVersion -> the module holding its models.
function moduleOf(apiVersion) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return `@kubernetes-models/prometheus-operator/${apiVersion}`;
  }
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion)) return null;
  return `kubernetes-models/${apiVersion}`;
}

const modules = new Map();
async function modelOf(apiVersion, kind) {
  const name = moduleOf(apiVersion);
  if (name === null) throw new Error(`apiVersion "${apiVersion}" is not group/version`);
  if (!modules.has(name)) {
    modules.set(name, await import(name).catch(() => null));
  }
  const mod = modules.get(name);
  if (mod === null) throw new Error(`unknown apiVersion "${apiVersion}" (no schemas for it)`);
  const model = mod[kind];
  if (typeof model !== "function" || model.kind !== kind || model.apiVersion !== apiVersion) {
    throw new Error(`unknown kind "${kind}" in apiVersion "${apiVersion}"`);
  }
  return model;
}

// A proxy over `value` that records which fields the validator reads.
function track(value, path, records) {
  if (value === null || typeof value !== "object") return value;
  const record = { path, value, read: new Set(), enumerated: false, touched: false };
  records.push(record);
  const children = new Map();
  return new Proxy(value, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof prop !== "string") return v;
      record.touched = true;
      record.read.add(prop);
      if (v !== null && typeof v === "object" && Object.prototype.hasOwnProperty.call(target, prop)) {
        if (!children.has(prop)) children.set(prop, track(v, `${path}/${prop}`, records));
        return children.get(prop);
      }
      return v;
    },
    has(target, prop) {
      if (typeof prop === "string") {
        record.touched = true;
        record.read.add(prop);
      }
      return Reflect.has(target, prop);
    },
    ownKeys(target) {
      record.touched = true;
      record.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

function unknownFields(records) {
  const out = [];
  for (const r of records) {
    if (Array.isArray(r.value) || r.enumerated || !r.touched) continue;
    for (const key of Object.keys(r.value)) {
      if (!r.read.has(key)) out.push(`${r.path}/${key}`);
    }
  }
  return out;
}

const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const labelName = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const envName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

function checkLabels(labels, where, problems) {
  for (const [k, v] of Object.entries(labels ?? {})) {
    const slash = k.lastIndexOf("/");
    const prefix = slash >= 0 ? k.slice(0, slash) : null;
    const name = slash >= 0 ? k.slice(slash + 1) : k;
    if ((prefix !== null && (prefix.length > 253 || !dns1123Subdomain.test(prefix))) || name.length > 63 || !labelName.test(name)) {
      problems.push(`${where}: label key "${k}" is not a qualified name`);
    }
    if (typeof v !== "string" || v.length > 63 || !labelValue.test(v)) {
      problems.push(`${where}: label "${k}" has the value ${JSON.stringify(v)}, not a label value`);
    }
  }
}

function matches(selector, labels) {
  return Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
}

function checkPodSpec(spec, where, claimNames, problems) {
  const volumes = new Set();
  for (const v of spec.volumes ?? []) {
    if (volumes.has(v.name)) problems.push(`${where}: volume "${v.name}" twice`);
    volumes.add(v.name);
    if (!dns1123Label.test(v.name ?? "")) problems.push(`${where}: volume name "${v.name}" is not a DNS label`);
  }
  for (const c of claimNames) {
    if (volumes.has(c)) problems.push(`${where}: volume "${c}" is also a volumeClaimTemplate`);
    volumes.add(c);
  }
  const containerNames = new Set();
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const cw = `${where}: container "${c.name}"`;
    if (containerNames.has(c.name)) problems.push(`${cw} twice`);
    containerNames.add(c.name);
    const ports = new Set();
    for (const p of c.ports ?? []) {
      if (p.name !== undefined) {
        if (p.name.length > 15 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p.name) || !/[a-z]/.test(p.name)) {
          problems.push(`${cw}: port name "${p.name}" is not an IANA service name`);
        }
        if (ports.has(p.name)) problems.push(`${cw}: port "${p.name}" twice`);
        ports.add(p.name);
      }
    }
    const mounts = new Set();
    for (const m of c.volumeMounts ?? []) {
      if (!volumes.has(m.name)) problems.push(`${cw}: mounts volume "${m.name}", which the pod does not have`);
      if (mounts.has(m.mountPath)) problems.push(`${cw}: two mounts at ${m.mountPath}`);
      mounts.add(m.mountPath);
    }
    const envs = new Set();
    for (const e of c.env ?? []) {
      if (!envName.test(e.name)) problems.push(`${cw}: environment variable name "${e.name}"`);
      if (envs.has(e.name)) problems.push(`${cw}: environment variable ${e.name} twice`);
      envs.add(e.name);
    }
    for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
      const port = c[probe]?.httpGet?.port;
      if (typeof port === "string" && !ports.has(port)) problems.push(`${cw}: ${probe} names port "${port}", which it does not have`);
    }
  }
}

const problems = [];
const all = [];
for (const file of files) {
  let docs;
  try {
    docs = readManifests(file);
  } catch (e) {
    problems.push(e.message);
    continue;
  }
  if (docs.length === 0) problems.push(`${file}: no objects`);
  all.push(...docs);
}

const seen = new Map();
for (const m of all) {
  const o = m.obj;
  const where = describe(m);
  if (typeof o !== "object" || Array.isArray(o)) {
    problems.push(`${where}: not an object`);
    continue;
  }
  let model;
  try {
    model = await modelOf(String(o.apiVersion), String(o.kind));
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
    continue;
  }
  const records = [];
  try {
    model.prototype.validate.call(track(o, "", records));
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
    continue;
  }
  for (const f of unknownFields(records)) problems.push(`${where}: unknown field ${f}`);

  const name = o.metadata?.name;
  if (typeof name !== "string" || name.length > 253 || !dns1123Subdomain.test(name)) {
    problems.push(`${where}: metadata.name ${JSON.stringify(name)} is not a DNS subdomain`);
  }
  if (["Service", "StatefulSet", "Deployment"].includes(o.kind) && (name?.length > 63 || !dns1123Label.test(name ?? ""))) {
    problems.push(`${where}: a ${o.kind}'s name must be a DNS label of at most 63 characters`);
  }
  // Its pods' label controller-revision-hash is "<name>-<10 characters>" (at most 63).
  if (o.kind === "StatefulSet" && name?.length > 52) {
    problems.push(`${where}: a StatefulSet's name must be at most 52 characters (its pods' controller-revision-hash label)`);
  }
  const key = `${o.apiVersion} ${o.kind} ${o.metadata?.namespace ?? ""} ${name}`;
  if (seen.has(key)) problems.push(`${where}: the same object as ${seen.get(key)}`);
  seen.set(key, where);
  checkLabels(o.metadata?.labels, where, problems);

  if (o.kind === "StatefulSet" || o.kind === "Deployment") {
    const tpl = o.spec.template;
    checkLabels(tpl.metadata?.labels, `${where} pod template`, problems);
    if (!matches(o.spec.selector?.matchLabels, tpl.metadata?.labels)) {
      problems.push(`${where}: spec.selector does not match the pod template's labels`);
    }
    const claims = (o.spec.volumeClaimTemplates ?? []).map((c) => c.metadata?.name);
    checkPodSpec(tpl.spec, where, claims, problems);
    if (o.kind === "StatefulSet" && !all.some((s) => s.obj.kind === "Service" && s.obj.metadata.name === o.spec.serviceName)) {
      problems.push(`${where}: serviceName "${o.spec.serviceName}" names no Service of the chart`);
    }
  }
}

// Services: each selects pods, and each targetPort names one of their ports.
const workloads = all.filter((m) => ["StatefulSet", "Deployment"].includes(m.obj.kind));
for (const s of all.filter((m) => m.obj.kind === "Service")) {
  const sel = s.obj.spec.selector;
  const pods = workloads.filter((w) => matches(sel, w.obj.spec.template.metadata.labels));
  if (pods.length === 0) {
    problems.push(`${describe(s)}: its selector matches no pod template`);
    continue;
  }
  for (const p of s.obj.spec.ports ?? []) {
    if (typeof p.targetPort !== "string") continue;
    for (const w of pods) {
      const has = w.obj.spec.template.spec.containers.some((c) => (c.ports ?? []).some((cp) => cp.name === p.targetPort));
      if (!has) problems.push(`${describe(s)}: targetPort "${p.targetPort}" is no port of ${describe(w)}`);
    }
  }
}

if (problems.length > 0) {
  console.error(`validate: ${problems.length} problem(s):`);
  for (const p of problems) console.error(`  - ${p}`);
  process.exit(1);
}
const kinds = {};
for (const m of all) kinds[m.obj.kind] = (kinds[m.obj.kind] ?? 0) + 1;
console.log(`validate: ${all.length} objects valid (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ")})`);
