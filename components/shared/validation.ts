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
