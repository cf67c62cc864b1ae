import { parseQuantity } from "./quantity";

/** One problem in a component's arguments. */
export interface Problem {
  /** Property path from the Args root, e.g. `quota.requestsCpu`. */
  readonly path: string;
  /** The offending value, as given. */
  readonly value: unknown;
  /** What is wrong. */
  readonly message: string;
  /** How to fix it. */
  readonly fix: string;
}

/**
 * Thrown when a component's Args are invalid. Carries every problem found, not just the first,
 * so one run shows all that must change. Raised before any resource is registered.
 */
export class ArgsValidationError extends Error {
  readonly component: string;
  readonly problems: readonly Problem[];

  constructor(component: string, problems: readonly Problem[]) {
    const lines = problems.map((p) => `  - ${p.path} = ${show(p.value)}: ${p.message} Fix: ${p.fix}`);
    const count = problems.length === 1 ? "1 invalid argument" : `${problems.length} invalid arguments`;
    super(`${component}: ${count}:\n${lines.join("\n")}`);
    this.name = "ArgsValidationError";
    this.component = component;
    this.problems = problems;
  }
}

function show(value: unknown): string {
  if (value === undefined) return "(not set)";
  return JSON.stringify(value) ?? String(value);
}

/** Collects problems while checking; `throwIfAny` fails once with all of them. */
export class Problems {
  readonly #items: Problem[] = [];

  add(path: string, value: unknown, message: string, fix: string): void {
    this.#items.push({ path, value, message, fix });
  }

  get list(): readonly Problem[] {
    return this.#items;
  }

  throwIfAny(component: string): void {
    if (this.#items.length > 0) throw new ArgsValidationError(component, [...this.#items]);
  }

  /** A DNS-1123 label: namespaces, Services and most object names. */
  dnsLabel(path: string, value: unknown): value is string {
    if (typeof value !== "string" || !DNS_LABEL.test(value) || value.length > 63) {
      this.add(
        path,
        value,
        "must be a DNS-1123 label: at most 63 lowercase letters, digits or '-', starting and ending with a letter or digit.",
        `use a name such as ${JSON.stringify(suggestDnsLabel(value))}.`,
      );
      return false;
    }
    return true;
  }

  /** A non-negative Kubernetes quantity ("500m", "2Gi"); `undefined` is accepted (optional). */
  quantity(path: string, value: unknown, opts: { positive?: boolean } = {}): void {
    if (value === undefined) return;
    const parsed = typeof value === "string" || typeof value === "number" ? parseQuantity(value) : undefined;
    if (parsed === undefined) {
      this.add(path, value, "is not a Kubernetes quantity.", 'write it like "500m", "2", "4Gi" or "512Mi".');
    } else if (parsed < 0 || (opts.positive && parsed === 0)) {
      this.add(
        path,
        value,
        `must be ${opts.positive ? "greater than zero" : "zero or more"}.`,
        "give a non-negative amount, or leave it out for the default.",
      );
    }
  }

  /** A whole number within bounds; `undefined` is accepted (optional). */
  integer(path: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
    if (value === undefined) return;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `between ${min} and ${max}`;
      this.add(path, value, `must be a whole number ${range}.`, `set a whole number ${range}.`);
    }
  }

  /** One of a fixed set of strings; `undefined` is accepted (optional). */
  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): void {
    if (value === undefined) return;
    if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
      this.add(
        path,
        value,
        `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}.`,
        "pick one of those.",
      );
    }
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function suggestDnsLabel(value: unknown): string {
  const s = String(value ?? "")
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
  return s || "my-namespace";
}

const IMAGE = /^[^\s:@]+(:[^\s@]+)?(@sha256:[a-f0-9]{64})?$/;

/** Pods of another service admitted to (or allowed to reach) a server: a name and the pods' labels. */
export interface PodsRef {
  readonly name: string;
  readonly podLabels: Readonly<Record<string, string>>;
}

/** Checks shared by every component's Args; each adds problems to `p` and returns nothing. */
export const check = {
  /** An image reference (`registry/repository:tag`, optionally `@sha256:...`); `undefined` is accepted. */
  image(p: Problems, path: string, value: unknown): void {
    if (value !== undefined && (typeof value !== "string" || !IMAGE.test(value)))
      p.add(
        path,
        value,
        "is not an image reference.",
        'write it as "registry/repository:tag" (or @sha256:...).',
      );
  },

  /**
   * A list of services by name and pod labels (consumers, clients): names unique DNS labels,
   * selectors non-empty, at least `min` entries.
   */
  podsRefs(p: Problems, path: string, list: unknown, opts: { min: 0 | 1; example: string }): void {
    if (!Array.isArray(list) || list.length < opts.min) {
      const what = opts.min === 1 ? "must list at least one service." : "must be a list (it may be empty).";
      p.add(path, list, what, `add e.g. ${opts.example}.`);
      return;
    }
    const seen = new Set<string>();
    list.forEach((c: Partial<PodsRef> | undefined, i) => {
      if (p.dnsLabel(`${path}[${i}].name`, c?.name)) {
        if (seen.has(c?.name as string))
          p.add(`${path}[${i}].name`, c?.name, "is listed twice.", "give each once.");
        seen.add(c?.name as string);
      }
      const labels = c?.podLabels;
      if (!labels || typeof labels !== "object" || Object.keys(labels).length === 0)
        p.add(
          `${path}[${i}].podLabels`,
          labels,
          "must select the service's pods (an empty selector would admit every pod).",
          "pass the labels of its pods (components export them as podLabels).",
        );
    });
  },

  /** Requests and limits, each a positive quantity. */
  resources(p: Problems, path: string, r: Readonly<Record<string, unknown>>): void {
    for (const [k, v] of Object.entries(r)) p.quantity(`${path}.${k}`, v, { positive: true });
  },

  /** Replicas for a profile: `production` needs two or more. Returns the resolved count. */
  replicas(p: Problems, profile: unknown, replicas: unknown, max: number): number {
    p.oneOf("profile", profile, ["local", "production"] as const);
    const resolved = replicas ?? (profile === "local" ? 1 : 2);
    p.integer("replicas", resolved, 1, max);
    if (profile !== "local" && typeof resolved === "number" && resolved < 2)
      p.add(
        "replicas",
        resolved,
        'must be 2 or more with profile "production" (one replica is a single point of failure).',
        'set replicas: 2 (or more), or profile: "local" for a laptop or test cluster.',
      );
    return resolved as number;
  },
};
