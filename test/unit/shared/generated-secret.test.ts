import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { GeneratedSecret, randomString } from "../../../components/shared";
import { installStrictMocks } from "../../helpers/pulumi-mocks";

describe("randomString", () => {
  it("has the asked length and only alphabet characters", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.constantFrom("ab", "0123456789abcdef", "xyz"),
        (n, alphabet) => {
          const s = randomString(n, alphabet, (k) => randomBytes(k));
          return s.length === n && [...s].every((c) => alphabet.includes(c));
        },
      ),
    );
  });

  it("rejects bytes past the last whole multiple of the alphabet, so no character is favoured", () => {
    // Alphabet of 3: limit 255, so byte 255 is skipped; 0, 1, 2, 254 map by modulo to a, b, c, c.
    const bytes = [255, 255, 0, 1, 2, 254];
    let i = 0;
    const source = (n: number) => Uint8Array.from({ length: n }, () => bytes[i++ % bytes.length] ?? 0);
    expect(randomString(4, "abc", source)).toBe("abcc");
  });
});

describe("GeneratedSecret", () => {
  beforeAll(async () => {
    await installStrictMocks();
  });

  it("refuses a length outside 16..256, naming the value and the fix", () => {
    expect(() => new GeneratedSecret("short", { length: 8 })).toThrow(
      'GeneratedSecret "short": length = 8: must be a whole number from 16 to 256. Fix: leave it out for 32.',
    );
  });
});
