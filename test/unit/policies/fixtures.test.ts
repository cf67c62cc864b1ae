import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { subjectsFromText } from "../../../policies/adapters/manifests";
import { evaluate } from "../../../policies/engine/evaluate";
import { allRules } from "../../../policies/rules";

const FIXTURES = path.resolve(__dirname, "../../../policies/fixtures");
const NOW = new Date("2026-11-23T00:00:00Z");

function check(file: string) {
  const { subjects, errors } = subjectsFromText(readFileSync(file, "utf8"), file);
  expect(errors).toEqual([]);
  return evaluate(subjects, allRules, { now: NOW });
}

describe("policy rules", () => {
  it("has at least 50 rules with unique ids", () => {
    expect(allRules.length).toBeGreaterThanOrEqual(50);
    expect(new Set(allRules.map((r) => r.id)).size).toBe(allRules.length);
  });

  for (const rule of allRules) {
    describe(rule.id, () => {
      const dir = path.join(FIXTURES, rule.id);
      it("has pass and fail fixtures", () => {
        expect(existsSync(path.join(dir, "pass.yaml")), `${dir}/pass.yaml`).toBe(true);
        expect(existsSync(path.join(dir, "fail.yaml")), `${dir}/fail.yaml`).toBe(true);
      });
      it("passes its passing fixture", () => {
        const report = check(path.join(dir, "pass.yaml"));
        expect(report.errors).toEqual([]);
        expect(report.findings.filter((f) => f.ruleId === rule.id)).toEqual([]);
      });
      it("reports its failing fixture, with path, message and fix", () => {
        const report = check(path.join(dir, "fail.yaml"));
        const mine = report.findings.filter((f) => f.ruleId === rule.id && f.status === "violation");
        expect(mine.length).toBeGreaterThan(0);
        for (const f of mine) {
          expect(f.path).not.toBe("");
          expect(f.message).not.toBe("");
          expect(f.fix).toBe(rule.fix);
        }
      });
    });
  }
});
