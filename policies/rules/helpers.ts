import type { CheckResult, Rule, Subject, Violation } from "../engine/types";

/** Loose view of an object: rules read untyped manifests, so every access is checked. */
export type Obj = Readonly<Record<string, unknown>>;

export function obj(value: unknown): Obj | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Obj) : undefined;
}

export function arr(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Reads a dotted path (`spec.template.spec`) from an object. */
export function get(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const key of path.split(".")) {
    const o = obj(cur);
    if (!o) return undefined;
    cur = o[key];
  }
  return cur;
}

/** Where the pod template sits in each workload kind. */
const POD_SPEC_PATHS: Readonly<Record<string, string>> = {
  Pod: "spec",
  Deployment: "spec.template.spec",
  StatefulSet: "spec.template.spec",
  DaemonSet: "spec.template.spec",
  ReplicaSet: "spec.template.spec",
  ReplicationController: "spec.template.spec",
  Job: "spec.template.spec",
  CronJob: "spec.jobTemplate.spec.template.spec",
};

export const WORKLOAD_KINDS: ReadonlySet<string> = new Set(Object.keys(POD_SPEC_PATHS));

export function isWorkload(subject: Subject): boolean {
  return subject.layer === "kubernetes" && WORKLOAD_KINDS.has(subject.kind);
}

export interface PodSpecRef {
  readonly spec: Obj;
  readonly path: string;
}

export function podSpec(subject: Subject): PodSpecRef | undefined {
  const path = POD_SPEC_PATHS[subject.kind];
  if (!path) return undefined;
  const spec = obj(get(subject.object, path));
  return spec ? { spec, path } : undefined;
}

export interface ContainerRef {
  readonly container: Obj;
  readonly name: string;
  /** Path of the container, e.g. `spec.template.spec.initContainers[0]`. */
  readonly path: string;
  readonly list: "containers" | "initContainers" | "ephemeralContainers";
}

export function containers(
  ref: PodSpecRef,
  lists: readonly ContainerRef["list"][] = ["containers", "initContainers", "ephemeralContainers"],
): ContainerRef[] {
  const out: ContainerRef[] = [];
  for (const list of lists) {
    arr(ref.spec[list]).forEach((c, i) => {
      const container = obj(c);
      if (container)
        out.push({ container, name: String(container.name ?? i), path: `${ref.path}.${list}[${i}]`, list });
    });
  }
  return out;
}

/** The rule fields every rule states, plus its check. */
export type RuleDef = Omit<Rule, "applies" | "check"> & Partial<Pick<Rule, "applies">> & Pick<Rule, "check">;

export function rule(def: RuleDef): Rule {
  return { applies: isWorkload, ...def };
}

/**
 * A rule over each container of a workload: `check` returns a message (and optionally the
 * sub-path) for a violating container, or undefined.
 */
export function containerRule(
  def: Omit<RuleDef, "check"> & {
    readonly lists?: readonly ContainerRef["list"][];
    readonly checkContainer: (c: ContainerRef, pod: PodSpecRef, subject: Subject) => Violation | undefined;
  },
): Rule {
  const { lists, checkContainer, ...rest } = def;
  return rule({
    ...rest,
    check(subject): CheckResult {
      const pod = podSpec(subject);
      if (!pod) return [];
      const out: Violation[] = [];
      for (const c of containers(pod, lists)) {
        const v = checkContainer(c, pod, subject);
        if (v) out.push({ ...v, container: c.name });
      }
      return out;
    },
  });
}

/** A rule over the pod spec of a workload. */
export function podRule(
  def: Omit<RuleDef, "check"> & { readonly checkPod: (pod: PodSpecRef, subject: Subject) => Violation[] },
): Rule {
  const { checkPod, ...rest } = def;
  return rule({
    ...rest,
    check(subject) {
      const pod = podSpec(subject);
      return pod ? checkPod(pod, subject) : [];
    },
  });
}

/** Effective pod/container security setting: the container's, else the pod's. */
export function effective(c: ContainerRef, pod: PodSpecRef, field: string): unknown {
  const own = get(c.container, `securityContext.${field}`);
  return own !== undefined ? own : get(pod.spec, `securityContext.${field}`);
}

export function kindIs(...kinds: string[]): (s: Subject) => boolean {
  const set = new Set(kinds);
  return (s) => s.layer === "kubernetes" && set.has(s.kind);
}

export function labelsOf(value: unknown): Readonly<Record<string, string>> {
  return (obj(get(value, "metadata.labels")) as Record<string, string> | undefined) ?? {};
}

/** Does a label selector (matchLabels only, plus matchExpressions In/Exists) select these labels? */
export function selects(selector: unknown, labels: Readonly<Record<string, string>>): boolean {
  const sel = obj(selector);
  if (!sel) return false;
  const matchLabels = obj(sel.matchLabels) ?? {};
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  for (const e of arr(sel.matchExpressions)) {
    const expr = obj(e);
    const key = String(expr?.key ?? "");
    const values = arr(expr?.values).map(String);
    const op = expr?.operator;
    const has = Object.hasOwn(labels, key);
    if (op === "In" && !(has && values.includes(labels[key] as string))) return false;
    if (op === "NotIn" && has && values.includes(labels[key] as string)) return false;
    if (op === "Exists" && !has) return false;
    if (op === "DoesNotExist" && has) return false;
  }
  return true;
}

export function podTemplateLabels(subject: Subject): Readonly<Record<string, string>> {
  if (subject.kind === "Pod") return labelsOf(subject.object);
  const path = subject.kind === "CronJob" ? "spec.jobTemplate.spec.template" : "spec.template";
  return labelsOf(get(subject.object, path));
}
