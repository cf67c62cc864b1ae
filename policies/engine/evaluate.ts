import { isWorkload } from "../rules/helpers";
import type { Finding, Report, Rule, RuleContext, Subject } from "./types";
import { guardUnknowns, UnknownValueError } from "./unknown";
import { matchWaiver, parseWaivers } from "./waivers";

export interface EvaluateOptions {
  /** Evaluation time (waiver expiry). @default new Date() */
  readonly now?: Date;
}

/**
 * Runs every rule over every subject in one pass. Input is parsed once by the adapter; each rule
 * sees the shared context (all subjects, indexed by kind) for cross-resource checks.
 */
export function evaluate(
  subjects: readonly Subject[],
  rules: readonly Rule[],
  opts: EvaluateOptions = {},
): Report {
  const now = opts.now ?? new Date();
  const index = new Map<string, Subject[]>();
  for (const s of subjects) {
    const list = index.get(s.kind);
    if (list) list.push(s);
    else index.set(s.kind, [s]);
  }
  const nsIndex = new Map<string, Subject[]>();
  const workloads = new Map<string, Subject[]>();
  const push = (m: Map<string, Subject[]>, k: string, s: Subject) => {
    const list = m.get(k);
    if (list) list.push(s);
    else m.set(k, [s]);
  };
  for (const s of subjects) {
    push(nsIndex, `${s.kind}\u0000${s.namespace}`, s);
    if (isWorkload(s)) push(workloads, s.namespace, s);
  }
  const ctx: RuleContext = {
    subjects,
    byKind: (kind) => index.get(kind) ?? [],
    inNamespace: (kind, namespace) => nsIndex.get(`${kind}\u0000${namespace}`) ?? [],
    workloadsIn: (namespace) => workloads.get(namespace) ?? [],
    now,
  };
  const ruleIds = new Set(rules.map((r) => r.id));
  const findings: Finding[] = [];
  const errors: string[] = [];

  for (const original of subjects) {
    // Subjects with unknown values are seen through a guard: reading one makes the finding
    // "not evaluated" (with the path) instead of letting the rule pass on a placeholder.
    const subject: Subject = original.unknownPaths?.length
      ? { ...original, object: guardUnknowns(original.object) }
      : original;
    const { waivers, errors: waiverErrors } = parseWaivers(original, ruleIds);
    errors.push(...waiverErrors);
    const where = {
      kind: subject.kind,
      name: subject.name,
      namespace: subject.namespace,
      source: subject.source,
    };
    for (const rule of rules) {
      if (!rule.applies(subject)) continue;
      let result: ReturnType<Rule["check"]>;
      try {
        result = rule.check(subject, ctx);
      } catch (err) {
        if (err instanceof UnknownValueError) {
          result = { notEvaluated: err.path };
        } else {
          // A rule bug must not hide the rest of the report, nor pass silently.
          errors.push(`rule ${rule.id} failed on ${subject.kind} ${subject.name}: ${(err as Error).message}`);
          continue;
        }
      }
      const base = {
        ruleId: rule.id,
        severity: rule.severity,
        enforcement: rule.enforcement,
        subject: where,
        fix: rule.fix,
      };
      if ("notEvaluated" in result) {
        findings.push({
          ...base,
          status: "not-evaluated",
          path: result.notEvaluated,
          message: "value unknown during preview",
        });
        continue;
      }
      for (const v of result) {
        const finding = {
          ...base,
          path: v.path,
          message: v.message,
          ...(v.container ? { container: v.container } : {}),
        };
        const waiver = matchWaiver(waivers, rule.id, v.container);
        if (!waiver) {
          findings.push({ ...finding, status: "violation" });
          continue;
        }
        const info = { owner: waiver.owner, reason: waiver.reason, expires: waiver.expires };
        if (rule.unwaivable && rule.enforcement === "mandatory") {
          findings.push({
            ...finding,
            status: "violation",
            waiver: { ...info, note: "this rule cannot be waived" },
          });
        } else if (waiver.expiresAt.getTime() < now.getTime()) {
          findings.push({
            ...finding,
            status: "violation",
            waiver: { ...info, note: `waiver expired on ${waiver.expires}` },
          });
        } else {
          findings.push({ ...finding, status: "waived", waiver: info });
        }
      }
    }
  }

  const violations = findings.filter((f) => f.status === "violation");
  return {
    findings,
    counts: {
      subjects: subjects.length,
      rules: rules.length,
      mandatory: violations.filter((f) => f.enforcement === "mandatory").length,
      advisory: violations.filter((f) => f.enforcement === "advisory").length,
      waived: findings.filter((f) => f.status === "waived").length,
      notEvaluated: findings.filter((f) => f.status === "not-evaluated").length,
    },
    errors,
  };
}
