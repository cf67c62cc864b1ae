import { describe, expect, it } from "vitest";
import { resolvePlatformNamespace } from "../../../components/platform-namespace/config";
import { renderPlatformNamespace } from "../../../components/platform-namespace/platform-namespace";
import { subjectsFromObjects } from "../../../policies/adapters/manifests";
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
    expect(report.counts.waived).toBe(0);
  });
});
