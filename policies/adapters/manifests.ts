import { LineCounter, parseAllDocuments } from "yaml";
import type { Subject } from "../engine/types";
import { obj } from "../rules/helpers";

/**
 * Turns YAML/JSON text (one or many documents, `List` objects) into subjects, each with its file
 * and line. A document `{ pulumiResource: { type, name, inputs } }` stands for a Pulumi resource
 * (how fixtures and exported previews feed the AWS rules).
 */
export interface ParseResult {
  readonly subjects: Subject[];
  readonly errors: string[];
}

export function subjectsFromText(text: string, uri: string): ParseResult {
  const lineCounter = new LineCounter();
  const subjects: Subject[] = [];
  const errors: string[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter })) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const pos = e.linePos?.[0];
        errors.push(
          `${uri}${pos ? `:${pos.line}:${pos.col}` : ""}: invalid YAML: ${e.message.split("\n")[0]}`,
        );
      }
      continue;
    }
    const value = doc.toJS() as unknown;
    if (value === null || value === undefined) continue;
    const line = doc.contents?.range ? lineCounter.linePos(doc.contents.range[0]).line : undefined;
    addValue(value, { uri, ...(line ? { line } : {}) }, subjects, errors);
  }
  return { subjects, errors };
}

function addValue(value: unknown, source: Subject["source"], subjects: Subject[], errors: string[]): void {
  const o = obj(value);
  if (!o) {
    errors.push(
      `${source.uri}${source.line ? `:${source.line}` : ""}: a document must be an object, got ${JSON.stringify(value).slice(0, 40)}`,
    );
    return;
  }
  const pr = obj(o.pulumiResource);
  if (pr) {
    subjects.push({
      layer: "pulumi",
      apiVersion: String(pr.type),
      kind: String(pr.type),
      name: String(pr.name ?? ""),
      namespace: "",
      object: obj(pr.inputs) ?? {},
      source,
    });
    return;
  }
  if (typeof o.kind === "string" && o.kind.endsWith("List") && Array.isArray(o.items)) {
    for (const item of o.items) addValue(item, source, subjects, errors);
    return;
  }
  if (typeof o.apiVersion !== "string" || typeof o.kind !== "string") {
    errors.push(
      `${source.uri}${source.line ? `:${source.line}` : ""}: not a Kubernetes object (apiVersion and kind are required)`,
    );
    return;
  }
  const metadata = obj(o.metadata) ?? {};
  subjects.push({
    layer: "kubernetes",
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: String(metadata.name ?? ""),
    namespace: String(metadata.namespace ?? ""),
    object: o,
    source,
  });
}

/** Subjects from objects already in memory (a chart's rendered output), all from one source. */
export function subjectsFromObjects(objects: readonly unknown[], uri: string): ParseResult {
  const subjects: Subject[] = [];
  const errors: string[] = [];
  for (const o of objects) addValue(o, { uri }, subjects, errors);
  return { subjects, errors };
}
