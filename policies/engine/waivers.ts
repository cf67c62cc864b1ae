import { PROJECT_DOMAIN } from "../../components/shared/labels";
import type { Subject } from "./types";

/**
 * Waivers live on the resource they waive, so they are reviewed in the same pull request:
 *
 *   metadata.annotations (Kubernetes) or tags (cloud resources):
 *     waiver.mlops-platform.io/<rule-id>: "owner=team-ml; expires=2027-03-31; reason=GPU driver needs hostPath"
 *     waiver.mlops-platform.io/<rule-id>.<container>: "..."   (one container only)
 *
 * All three fields are required; `expires` is a date (YYYY-MM-DD, end of that day UTC). An expired
 * waiver no longer waives; a malformed one is reported as an error and waives nothing.
 */
export const WAIVER_PREFIX = `waiver.${PROJECT_DOMAIN}/`;

export interface Waiver {
  readonly ruleId: string;
  readonly container?: string;
  readonly owner: string;
  readonly reason: string;
  /** YYYY-MM-DD as written. */
  readonly expires: string;
  /** End of the expiry day, UTC. */
  readonly expiresAt: Date;
}

export interface ParsedWaivers {
  readonly waivers: readonly Waiver[];
  readonly errors: readonly string[];
}

function waiverSource(subject: Subject): Readonly<Record<string, unknown>> {
  if (subject.layer === "kubernetes") {
    const metadata = subject.object.metadata as { annotations?: Record<string, unknown> } | undefined;
    return metadata?.annotations ?? {};
  }
  return (subject.object.tags as Record<string, unknown> | undefined) ?? {};
}

export function parseWaivers(subject: Subject, knownRuleIds: ReadonlySet<string>): ParsedWaivers {
  const waivers: Waiver[] = [];
  const errors: string[] = [];
  const where = `${subject.kind} ${subject.namespace ? `${subject.namespace}/` : ""}${subject.name}`;
  for (const [key, raw] of Object.entries(waiverSource(subject))) {
    if (!key.startsWith(WAIVER_PREFIX)) continue;
    const target = key.slice(WAIVER_PREFIX.length);
    const dot = target.indexOf(".");
    const ruleId = dot < 0 ? target : target.slice(0, dot);
    const container = dot < 0 ? undefined : target.slice(dot + 1);
    const fields = new Map<string, string>();
    for (const part of String(raw).split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const problems: string[] = [];
    if (!knownRuleIds.has(ruleId)) problems.push(`unknown rule '${ruleId}'`);
    for (const field of ["owner", "reason", "expires"])
      if (!fields.get(field)) problems.push(`missing ${field}`);
    const expires = fields.get("expires") ?? "";
    const expiresAt = new Date(`${expires}T23:59:59.999Z`);
    if (expires && (!/^\d{4}-\d{2}-\d{2}$/.test(expires) || Number.isNaN(expiresAt.getTime()))) {
      problems.push(`expires = "${expires}" is not a date`);
    }
    if (problems.length > 0) {
      errors.push(
        `${where}: waiver ${key} = "${String(raw)}": ${problems.join(", ")}. ` +
          'Fix: "owner=<team>; expires=YYYY-MM-DD; reason=<why>" with a rule id from `mlops-policy rules`.',
      );
      continue;
    }
    waivers.push({
      ruleId,
      ...(container ? { container } : {}),
      owner: fields.get("owner") as string,
      reason: fields.get("reason") as string,
      expires,
      expiresAt,
    });
  }
  return { waivers, errors };
}

/** The waiver that covers a finding: a container-specific one first, else a whole-resource one. */
export function matchWaiver(
  waivers: readonly Waiver[],
  ruleId: string,
  container?: string,
): Waiver | undefined {
  return (
    (container ? waivers.find((w) => w.ruleId === ruleId && w.container === container) : undefined) ??
    waivers.find((w) => w.ruleId === ruleId && w.container === undefined)
  );
}
