import * as pulumi from "@pulumi/pulumi";

/**
 * A generated credential: random once at create, then stable in the stack's (encrypted) state,
 * and replaced only when its shape (length, alphabet) changes.
 *
 * This stands in for `@pulumi/random`'s RandomPassword: the random provider binary cannot be built
 * from the Go module proxy reachable here (every `pulumi-random` provider version is refused), so
 * the platform generates credentials with a Pulumi dynamic provider on Node's `crypto` instead.
 * The value is a Pulumi secret from the start (`additionalSecretOutputs`), so it is encrypted in
 * state and masked in every log; components only ever write it into a Kubernetes Secret.
 */
export interface GeneratedSecretArgs {
  /** Characters in the value. @default 32 */
  readonly length?: number;
  /**
   * `alphanumeric` (A-Z a-z 0-9: safe in URLs, connection strings and shell) or `hex`.
   * @default "alphanumeric"
   */
  readonly alphabet?: "alphanumeric" | "hex";
}

interface Inputs {
  readonly length: number;
  readonly alphabet: "alphanumeric" | "hex";
}

interface Outputs extends Inputs {
  readonly result: string;
}

const ALPHABETS = {
  alphanumeric: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
  hex: "0123456789abcdef",
} as const;

/**
 * Unbiased random string: bytes at or above the largest multiple of the alphabet size are
 * rejected instead of taken modulo. Exported for tests.
 */
export function randomString(
  length: number,
  alphabet: string,
  randomBytes: (n: number) => Uint8Array,
): string {
  const limit = 256 - (256 % alphabet.length);
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < limit) out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

const provider: pulumi.dynamic.ResourceProvider<Inputs, Outputs> = {
  // The provider is serialised into the state and run by the dynamic provider host, so it uses
  // only globals (Web Crypto) and functions of this module, no imports.
  async create(inputs) {
    const randomBytes = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n));
    const result = randomString(inputs.length, ALPHABETS[inputs.alphabet], randomBytes);
    return { id: randomString(16, ALPHABETS.hex, randomBytes), outs: { ...inputs, result } };
  },
  async diff(_id, olds, news) {
    const replaces = (["length", "alphabet"] as const).filter((k) => olds[k] !== news[k]);
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
};

export class GeneratedSecret extends pulumi.dynamic.Resource {
  /** The generated value, a Pulumi secret. */
  declare readonly result: pulumi.Output<string>;

  constructor(name: string, args: GeneratedSecretArgs = {}, opts?: pulumi.CustomResourceOptions) {
    const length = args.length ?? 32;
    if (!Number.isInteger(length) || length < 16 || length > 256) {
      throw new Error(
        `GeneratedSecret "${name}": length = ${length}: must be a whole number from 16 to 256. Fix: leave it out for 32.`,
      );
    }
    const inputs: Inputs = { length, alphabet: args.alphabet ?? "alphanumeric" };
    super(
      provider,
      name,
      { ...inputs, result: undefined },
      { ...opts, additionalSecretOutputs: ["result"] },
      "mlops",
    );
  }
}
