import * as path from "node:path";
import type { Finding, Report, Rule } from "../engine/types";

/** Report formats of the manifest checker: text (people), JSON (tools), SARIF (code scanning), JUnit (CI). */
export type Format = "text" | "json" | "sarif" | "junit";
export const FORMATS: readonly Format[] = ["text", "json", "sarif", "junit"];

/** Where each rule's documentation lives in this repository. */
export function docPath(rule: Pick<Rule, "id" | "category">): string {
  return `policies/docs/${rule.category}.md#${rule.id}`;
}

function where(f: Finding): string {
  const obj = `${f.subject.kind} ${f.subject.namespace ? `${f.subject.namespace}/` : ""}${f.subject.name}`;
  const loc = `${f.subject.source.uri}${f.subject.source.line ? `:${f.subject.source.line}` : ""}`;
  return `${loc} ${obj}${f.container ? ` [${f.container}]` : ""}`;
}

export function formatText(report: Report): string {
  const lines: string[] = [];
  const order = { violation: 0, "not-evaluated": 1, waived: 2 } as const;
  const sorted = [...report.findings].sort(
    (a, b) =>
      order[a.status] - order[b.status] ||
      (a.enforcement === b.enforcement ? 0 : a.enforcement === "mandatory" ? -1 : 1),
  );
  for (const f of sorted) {
    const tag =
      f.status === "violation"
        ? f.enforcement === "mandatory"
          ? "FAIL"
          : "WARN"
        : f.status === "waived"
          ? "WAIVED"
          : "UNKNOWN";
    lines.push(`${tag.padEnd(7)} ${f.ruleId} (${f.severity}) ${where(f)}`);
    lines.push(`        ${f.path}: ${f.message}`);
    lines.push(`        fix: ${f.fix}`);
    if (f.waiver)
      lines.push(
        `        waiver: owner=${f.waiver.owner}; expires=${f.waiver.expires}; reason=${f.waiver.reason}${f.waiver.note ? ` (${f.waiver.note})` : ""}`,
      );
  }
  for (const e of report.errors) lines.push(`ERROR   ${e}`);
  const c = report.counts;
  lines.push(
    `${c.subjects} objects, ${c.rules} rules: ${c.mandatory} mandatory, ${c.advisory} advisory, ${c.waived} waived, ${c.notEvaluated} not evaluated, ${report.errors.length} errors`,
  );
  return `${lines.join("\n")}\n`;
}

export function formatJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

const SARIF_LEVEL = { mandatory: "error", advisory: "warning" } as const;

export function formatSarif(report: Report, rules: readonly Rule[], cwd = process.cwd()): string {
  const used = rules;
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "mlops-policy",
            informationUri: "https://github.com/mlops-platform/mlops-platform/tree/main/policies",
            rules: used.map((r) => ({
              id: r.id,
              name: r.id,
              shortDescription: { text: r.title },
              help: { text: r.fix },
              helpUri: docPath(r),
              defaultConfiguration: { level: SARIF_LEVEL[r.enforcement] },
              properties: { severity: r.severity, enforcement: r.enforcement, category: r.category },
            })),
          },
        },
        results: report.findings
          .filter((f) => f.status !== "not-evaluated")
          .map((f) => ({
            ruleId: f.ruleId,
            ruleIndex: used.findIndex((r) => r.id === f.ruleId),
            level: f.status === "waived" ? "note" : SARIF_LEVEL[f.enforcement],
            message: { text: `${f.subject.kind} ${f.subject.name}: ${f.message} (${f.path}). Fix: ${f.fix}` },
            locations: [
              {
                physicalLocation: {
                  artifactLocation: {
                    uri: path.isAbsolute(f.subject.source.uri)
                      ? path.relative(cwd, f.subject.source.uri)
                      : f.subject.source.uri,
                  },
                  region: { startLine: f.subject.source.line ?? 1 },
                },
                logicalLocations: [
                  {
                    fullyQualifiedName: `${f.subject.kind}/${f.subject.namespace}/${f.subject.name}:${f.path}`,
                  },
                ],
              },
            ],
            ...(f.status === "waived" && f.waiver
              ? {
                  suppressions: [
                    {
                      kind: "inSource",
                      justification: `${f.waiver.reason} (owner ${f.waiver.owner}, expires ${f.waiver.expires})`,
                    },
                  ],
                }
              : {}),
          })),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One test case per rule and object it applied to with a finding; failures are unwaived mandatory ones. */
export function formatJunit(report: Report): string {
  const cases = report.findings.map((f) => {
    const name = xml(
      `${f.ruleId} ${f.subject.kind}/${f.subject.name}${f.container ? `[${f.container}]` : ""}`,
    );
    const body =
      f.status === "violation" && f.enforcement === "mandatory"
        ? `<failure message="${xml(f.message)}">${xml(`${where(f)}\n${f.path}: ${f.message}\nfix: ${f.fix}`)}</failure>`
        : f.status === "violation"
          ? `<system-out>${xml(`advisory: ${f.message}`)}</system-out>`
          : `<skipped message="${xml(f.status === "waived" ? `waived by ${f.waiver?.owner}` : "not evaluated")}"/>`;
    return `    <testcase classname="mlops-policy.${xml(f.ruleId)}" name="${name}">${body}</testcase>`;
  });
  const errors = report.errors.map(
    (e) =>
      `    <testcase classname="mlops-policy.input" name="input"><error message="${xml(e)}"/></testcase>`,
  );
  const failures = report.counts.mandatory;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="mlops-policy" tests="${cases.length + errors.length}" failures="${failures}" errors="${errors.length}" skipped="${report.counts.waived + report.counts.notEvaluated}">
${[...cases, ...errors].join("\n")}
  </testsuite>
</testsuites>
`;
}
