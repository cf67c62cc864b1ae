import { describe, expect, it } from "vitest";
import { resolvePlatformNamespace } from "../../../components/platform-namespace/config";
import { renderPlatformNamespace } from "../../../components/platform-namespace/platform-namespace";
import { subjectsFromObjects } from "../../../policies/adapters/manifests";
import { PLATFORM_WAIVERS } from "../../../policies/docs/platform-waivers";
import { evaluate } from "../../../policies/engine/evaluate";
import { allRules } from "../../../policies/rules";

/** Every chart the platform renders today, checked by every rule: no unwaived mandatory finding. */
describe("the platform's own rendered output", () => {
  it("PlatformNamespace passes every mandatory rule", () => {
    const objects = renderPlatformNamespace(
      resolvePlatformNamespace({ name: "training", quota: { gpus: 8 } }),
    );
    const { subjects, errors } = subjectsFromObjects(objects, "components/platform-namespace");
    expect(errors).toEqual([]);
    const report = evaluate(subjects, allRules);
    expect(report.errors).toEqual([]);
    expect(report.findings.filter((f) => f.status === "violation" && f.enforcement === "mandatory")).toEqual(
      [],
    );
    // Every waiver the platform carries is listed (with its reason) in policies/docs.
    const waived = report.findings.filter((f) => f.status === "waived").map((f) => f.ruleId);
    expect(waived.filter((id) => !PLATFORM_WAIVERS.some((w) => w.rule === id))).toEqual([]);
  });
});
