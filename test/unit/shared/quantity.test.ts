import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseQuantity } from "../../../components/shared";

describe("parseQuantity", () => {
  it.each([
    ["500m", 0.5],
    ["2", 2],
    ["1.5", 1.5],
    ["4Gi", 4 * 2 ** 30],
    ["512Mi", 512 * 2 ** 20],
    ["1k", 1000],
    ["1e3", 1000],
    ["-1", -1],
    [".5", 0.5],
  ])("%s is %d", (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value);
  });

  it.each(["", "abc", "1Gb", "1 Gi", "--1", "Gi"])("rejects %j", (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });

  it("binary suffixes scale by powers of 1024 and decimal ones by 1000 (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), (n) => {
        expect(parseQuantity(`${n}Ki`)).toBe(n * 1024);
        expect(parseQuantity(`${n}k`)).toBe(n * 1000);
        expect(parseQuantity(`${n}m`)).toBeCloseTo(n / 1000, 9);
      }),
    );
  });
});
