import { CORE_SCHEMA, load, YAMLException } from "js-yaml";
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

/** A document marker at column 0 (`---`, optionally followed by content or a comment). */
const DOC_START = /^---(?=\s|$)/;
const DOC_END = /^\.\.\.(?=\s|$)/;

/**
 * Splits a YAML stream at its document markers, keeping each document's first line. Kubernetes
 * manifests never hold a column-0 `---` inside a document (block scalars there are indented), so a
 * line scan is exact for them and much faster than building a full YAML syntax tree.
 */
function splitDocuments(text: string): { text: string; line: number }[] {
  const docs: { text: string; line: number }[] = [];
  const lines = text.split(/\r?\n/);
  let start = 0;
  const flush = (end: number) => {
    if (end > start) docs.push({ text: lines.slice(start, end).join("\n"), line: start + 1 });
  };
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (DOC_START.test(l)) {
      flush(i);
      // Content after the marker on the same line belongs to the next document.
      lines[i] = l.slice(3);
      start = i;
    } else if (DOC_END.test(l)) {
      flush(i);
      start = i + 1;
    }
  }
  flush(lines.length);
  return docs;
}

/** First line with content (not blank, not a comment) of a document, for its location. */
function contentLine(doc: { text: string; line: number }): number {
  const lines = doc.text.split("\n");
  const i = lines.findIndex((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
  return doc.line + Math.max(i, 0);
}

export function subjectsFromText(text: string, uri: string): ParseResult {
  const subjects: Subject[] = [];
  const errors: string[] = [];
  for (const doc of splitDocuments(text)) {
    let value: unknown;
    try {
      // Core schema (YAML 1.2): `yes`/`n`/dates stay strings, as the API server reads them.
      value = load(doc.text, { schema: CORE_SCHEMA, filename: uri });
    } catch (err) {
      if (!(err instanceof YAMLException)) throw err;
      const at = err.mark ? `:${doc.line + err.mark.line}:${err.mark.column + 1}` : `:${doc.line}`;
      errors.push(`${uri}${at}: invalid YAML: ${err.reason}`);
      continue;
    }
    if (value === null || value === undefined) continue;
    addValue(value, { uri, line: contentLine(doc) }, subjects, errors);
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
