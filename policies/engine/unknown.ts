/**
 * Values not known yet (a Pulumi preview's computed outputs). Adapters put `UNKNOWN` where a value
 * is unknown; the engine hands such subjects to rules behind a proxy, so a rule that reads an
 * unknown value stops with `UnknownValueError` and the finding is reported as "not evaluated" with
 * the path it needed. A rule that never touches the unknown part evaluates normally. Nothing is
 * silently passed.
 */

/** The marker adapters substitute for unknown values. */
export const UNKNOWN: unique symbol = Symbol.for("mlops-platform.policy.unknown");

export class UnknownValueError extends Error {
  constructor(readonly path: string) {
    super(`value at '${path}' is unknown during preview`);
  }
}

function join(base: string, key: string): string {
  if (/^\d+$/.test(key)) return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

/** Wraps `value` so that reading an `UNKNOWN` anywhere below it throws `UnknownValueError`. */
export function guardUnknowns<T>(value: T, base = ""): T {
  if (value === UNKNOWN) throw new UnknownValueError(base || "(object)");
  if (typeof value !== "object" || value === null) return value;
  const cache = new Map<PropertyKey, unknown>();
  return new Proxy(value as object, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key === "symbol") return v;
      if (v === UNKNOWN) throw new UnknownValueError(join(base, key));
      if (typeof v !== "object" || v === null) return v;
      // Honour the proxy invariant for frozen properties.
      const desc = Reflect.getOwnPropertyDescriptor(target, key);
      if (desc && desc.configurable === false && desc.writable === false) return v;
      let wrapped = cache.get(key);
      if (wrapped === undefined) {
        wrapped = guardUnknowns(v, join(base, key));
        cache.set(key, wrapped);
      }
      return wrapped;
    },
  }) as T;
}

/** Paths of every `UNKNOWN` inside `value` (for adapters to fill `Subject.unknownPaths`). */
export function unknownPathsOf(value: unknown, base = ""): string[] {
  if (value === UNKNOWN) return [base || "(object)"];
  if (typeof value !== "object" || value === null) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) out.push(...unknownPathsOf(v, join(base, k)));
  return out;
}
