import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { renderDocs } from "../../../policies/docs/generate";
import { docPath } from "../../../policies/report/formats";
import { allRules } from "../../../policies/rules";

const ROOT = path.resolve(__dirname, "../../..");

describe("policies/docs", () => {
  it("is up to date with the rules (fix: npm run policy:docs)", () => {
    for (const [file, text] of renderDocs()) {
      expect(readFileSync(path.join(ROOT, "policies/docs", file), "utf8"), file).toBe(text);
    }
  });

  it("has the anchor every rule's doc link points at", () => {
    for (const rule of allRules) {
      const [file, anchor] = docPath(rule).split("#") as [string, string];
      expect(readFileSync(path.join(ROOT, file), "utf8")).toContain(`\n## ${anchor}\n`);
    }
  });
});
