/**
 * The CrossGuard adapter: the same rules as `mlops-policy check`, run by `pulumi preview/up
 * --policy-pack`. One stack policy per rule (so Pulumi shows each rule's name and enforces its own
 * level), all fed by a single evaluation of the whole stack (cross-resource and cross-layer rules
 * see every resource). Three bookkeeping policies report what a preview must not hide: findings
 * that are waived (advisory), rules not evaluated because a value is unknown (advisory, with the
 * count), and input errors such as a malformed waiver (mandatory).
 */
import { PolicyPack, type ReportViolation, type StackValidationArgs } from "@pulumi/policy";
import * as proxyModule from "@pulumi/policy/proxy";
import { subjectsFromPulumiResources } from "../adapters/pulumi";
import { evaluate } from "../engine/evaluate";
import type { Finding, Report, Rule } from "../engine/types";
import { docPath } from "../report/formats";
import { allRules } from "../rules";

/** Internals of @pulumi/policy's proxy module (exported at runtime, marked @internal in its types). */
interface ProxyInternals {
  readonly getSpecialProxyTarget: string;
  readonly unknownBooleanValue: string;
  readonly unknownNumberValue: string;
  readonly unknownStringValue: string;
  readonly unknownArrayValue: string;
  readonly unknownAssetValue: string;
  readonly unknownArchiveValue: string;
  readonly unknownObjectValue: string;
}
const proxy = proxyModule as unknown as ProxyInternals;

const SENTINELS = new Set<unknown>([
  proxy.unknownBooleanValue,
  proxy.unknownNumberValue,
  proxy.unknownStringValue,
  proxy.unknownArrayValue,
  proxy.unknownAssetValue,
  proxy.unknownArchiveValue,
  proxy.unknownObjectValue,
]);

let cached: { key: string; report: Report } | undefined;

/**
 * CrossGuard calls every stack policy with a freshly deserialised copy of the same resources; the
 * engine runs once per distinct input (keyed by the raw resources) and each policy reads its part.
 */
function reportFor(args: StackValidationArgs): Report {
  const resources = args.resources.map((r) => ({
    type: r.type,
    name: r.name,
    urn: r.urn,
    // Raw deserialised props: the pack converts unknowns itself instead of tripping CrossGuard's proxy.
    props: (r.props as Record<string, unknown>)[proxy.getSpecialProxyTarget] as Record<string, unknown>,
  }));
  const key = JSON.stringify(resources);
  if (cached?.key === key) return cached.report;
  const subjects = subjectsFromPulumiResources(resources, (v) => SENTINELS.has(v));
  const report = evaluate(subjects, allRules);
  cached = { key, report };
  return report;
}

function describe(f: Finding, rule: Pick<Rule, "id" | "category">): string {
  const where = `${f.subject.kind} ${f.subject.namespace ? `${f.subject.namespace}/` : ""}${f.subject.name}`;
  const container = f.container ? ` (container ${f.container})` : "";
  const waiver = f.waiver
    ? ` [waiver owner=${f.waiver.owner} expires=${f.waiver.expires}${f.waiver.note ? `: ${f.waiver.note}` : ""}]`
    : "";
  return `${where}${container} at ${f.path}: ${f.message}${waiver}. Fix: ${f.fix} (${docPath(rule as Rule)})`;
}

const ruleById = new Map(allRules.map((r) => [r.id, r]));

function report(violation: ReportViolation, f: Finding): void {
  const rule = ruleById.get(f.ruleId);
  violation(
    `${f.ruleId}: ${describe(f, rule ?? { id: f.ruleId, category: "unknown" })}`,
    f.subject.source.uri,
  );
}

new PolicyPack("mlops-platform", {
  description:
    "mlops-platform rules: Pod Security, workloads, network, RBAC, GPU, serving, AWS, cross-layer.",
  policies: [
    ...allRules.map((rule) => ({
      name: rule.id,
      description: rule.title,
      enforcementLevel: rule.enforcement,
      severity: rule.severity,
      validateStack: (args: StackValidationArgs, violation: ReportViolation) => {
        for (const f of reportFor(args).findings)
          if (f.ruleId === rule.id && f.status === "violation") report(violation, f);
      },
    })),
    {
      name: "mlops-waived-findings",
      description: "Findings covered by a valid waiver (reported, not enforced)",
      enforcementLevel: "advisory",
      validateStack: (args: StackValidationArgs, violation: ReportViolation) => {
        for (const f of reportFor(args).findings) if (f.status === "waived") report(violation, f);
      },
    },
    {
      name: "mlops-not-evaluated",
      description: "Rules that could not be evaluated because a value is unknown until apply",
      enforcementLevel: "advisory",
      validateStack: (args: StackValidationArgs, violation: ReportViolation) => {
        const r = reportFor(args);
        for (const f of r.findings) if (f.status === "not-evaluated") report(violation, f);
        if (r.counts.notEvaluated > 0)
          violation(`${r.counts.notEvaluated} finding(s) not evaluated: values unknown during preview`);
      },
    },
    {
      name: "mlops-policy-input-errors",
      description: "Malformed waivers and rule failures: the check cannot be trusted until fixed",
      enforcementLevel: "mandatory",
      validateStack: (args: StackValidationArgs, violation: ReportViolation) => {
        for (const e of reportFor(args).errors) violation(e);
      },
    },
  ],
});
