import { describe, expect, it } from "vitest";
import { platformSamples } from "../../../components/catalogue";
import { subjectsFromObjects } from "../../../policies/adapters/manifests";
import { PLATFORM_WAIVERS } from "../../../policies/docs/platform-waivers";
import { evaluate } from "../../../policies/engine/evaluate";
import { allRules } from "../../../policies/rules";

/** Every chart the platform renders (components/catalogue.ts), checked by every rule. */
describe("the platform's own rendered output", () => {
  it.each(platformSamples().map((s) => [s.name, s] as const))(
    "%s passes every mandatory rule",
    (_, sample) => {
      const { subjects, errors } = subjectsFromObjects(sample.objects, sample.name);
      expect(errors).toEqual([]);
      const report = evaluate(subjects, allRules);
      expect(report.errors).toEqual([]);
      expect(
        report.findings.filter((f) => f.status === "violation" && f.enforcement === "mandatory"),
      ).toEqual([]);
      // Every waiver the platform carries is listed (with its reason) in policies/docs.
      const waived = report.findings.filter((f) => f.status === "waived").map((f) => f.ruleId);
      expect(waived.filter((id) => !PLATFORM_WAIVERS.some((w) => w.rule === id))).toEqual([]);
    },
  );
});
