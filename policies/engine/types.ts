/**
 * The policy engine's vocabulary. Pure data: no I/O, no Pulumi, no cdk8s. Adapters (the manifest
 * CLI, the CrossGuard pack) turn their input into `Subject`s once, run every rule in one pass, and
 * format the `Report`.
 */

export type Severity = "critical" | "high" | "medium" | "low";
/** Mandatory findings fail a check; advisory ones are reported only. */
export type Enforcement = "mandatory" | "advisory";

/** Where a subject came from, for locations in reports (SARIF, text). */
export interface SourceLocation {
  /** File path (manifests) or Pulumi URN (CrossGuard). */
  readonly uri: string;
  /** 1-based line of the object's start, when known. */
  readonly line?: number;
}

/** One thing rules look at: a Kubernetes object (manifest or Pulumi resource) or a cloud resource. */
export interface Subject {
  /** `kubernetes` for Kubernetes objects, `pulumi` for other Pulumi resources (e.g. AWS). */
  readonly layer: "kubernetes" | "pulumi";
  /** Kubernetes: `apiVersion` group/version, e.g. `apps/v1`; Pulumi: the type token. */
  readonly apiVersion: string;
  /** Kubernetes kind (e.g. `Deployment`) or, for Pulumi resources, the type token. */
  readonly kind: string;
  readonly name: string;
  /** Kubernetes namespace ("" for cluster-scoped objects). */
  readonly namespace: string;
  /** The object (Kubernetes) or the resource's inputs (Pulumi). */
  readonly object: Readonly<Record<string, unknown>>;
  readonly source: SourceLocation;
  /**
   * Property paths whose value is not known yet (a Pulumi preview's unknowns). A check that needs
   * one reports `notEvaluated` instead of passing.
   */
  readonly unknownPaths?: readonly string[];
}

/** What a rule's check reports for one subject. */
export interface Violation {
  /** Property path inside the object, e.g. `spec.template.spec.containers[0].securityContext.privileged`. */
  readonly path: string;
  readonly message: string;
  /** Container the finding is about, so a per-container waiver can match. */
  readonly container?: string;
}

export type CheckResult = readonly Violation[] | { readonly notEvaluated: string };

/** Everything a rule can see: the subject and, for stack-level rules, all subjects at once. */
export interface RuleContext {
  readonly subjects: readonly Subject[];
  /** Subjects by kind, for cross-resource rules. */
  byKind(kind: string): readonly Subject[];
  /** Subjects of `kind` in one namespace (indexed once; stack-level rules stay linear). */
  inNamespace(kind: string, namespace: string): readonly Subject[];
  /** Workloads (anything with a pod template) in one namespace. */
  workloadsIn(namespace: string): readonly Subject[];
  /** The evaluation time (waiver expiry, support windows). */
  readonly now: Date;
}

export interface Rule {
  /** Stable id, kebab-case, e.g. `pod-no-privileged`. Used in waivers, SARIF and docs. */
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly enforcement: Enforcement;
  /** One-line fix hint shown with every finding. */
  readonly fix: string;
  /** Rule group, the docs page the rule lives on (`policies/docs/<category>.md`). */
  readonly category: string;
  /** Mandatory rules with this set cannot be waived (a waiver is reported and ignored). */
  readonly unwaivable?: boolean;
  /** Which subjects the rule looks at. */
  applies(subject: Subject): boolean;
  check(subject: Subject, ctx: RuleContext): CheckResult;
}

export type FindingStatus = "violation" | "waived" | "not-evaluated";

export interface Finding {
  readonly ruleId: string;
  readonly severity: Severity;
  readonly enforcement: Enforcement;
  readonly status: FindingStatus;
  readonly subject: Pick<Subject, "kind" | "name" | "namespace" | "source">;
  readonly path: string;
  readonly message: string;
  readonly fix: string;
  readonly container?: string;
  /** For waived findings (and refused waivers): who, why, until when. */
  readonly waiver?: {
    readonly owner: string;
    readonly reason: string;
    readonly expires: string;
    readonly note?: string;
  };
}

export interface Report {
  readonly findings: readonly Finding[];
  readonly counts: {
    readonly subjects: number;
    readonly rules: number;
    /** Unwaived mandatory violations: what fails a check. */
    readonly mandatory: number;
    readonly advisory: number;
    readonly waived: number;
    readonly notEvaluated: number;
  };
  /** Problems with the input or waivers that are not findings of a rule (e.g. a malformed waiver). */
  readonly errors: readonly string[];
}
