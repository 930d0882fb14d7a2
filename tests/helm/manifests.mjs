// Reads rendered manifests (a multi-document YAML stream) the way
// Kubernetes does: YAML 1.1 (0440 is octal, yes is a boolean), duplicate
// keys refused. Shared by validate.mjs and checks.mjs.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

// Returns [{file, index, source, obj}] for each non-empty document; throws
// with file and position on a YAML error.
export function readManifests(file) {
  const text = readFileSync(file, "utf8");
  const out = [];
  const docs = parseAllDocuments(text, { version: "1.1", uniqueKeys: true, prettyErrors: true });
  if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
  docs.forEach((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      throw new Error(`${file}: document ${index + 1}: ${problems.map((e) => e.message).join("; ")}`);
    }
    const obj = doc.toJS({ maxAliasCount: 0 });
    if (obj === null || obj === undefined) return;
    const raw = text.slice(index === 0 ? 0 : docs[index - 1].range[2], doc.range[2]);
    const source = /^# Source: (.*)$/m.exec(raw)?.[1];
    out.push({ file, index: index + 1, source: source?.trim() ?? "?", obj });
  });
  return out;
}

export function describe(m) {
  const o = m.obj;
  return `${o?.kind ?? "?"}/${o?.metadata?.name ?? "?"} (${m.source}, document ${m.index} of ${m.file})`;
}
