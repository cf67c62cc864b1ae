import { describe, expect, it } from "vitest";
import { resolvePlatformNamespace } from "../../../components/platform-namespace/config";
import { renderPlatformNamespace } from "../../../components/platform-namespace/platform-namespace";
import { evaluate } from "../../../policies/engine/evaluate";
import type { Subject } from "../../../policies/engine/types";
import { allRules } from "../../../policies/rules";

/** Every chart the platform renders today, checked by every rule: no unwaived mandatory finding. */
describe("the platform's own rendered output", () => {
  it("PlatformNamespace passes every mandatory rule", () => {
    const objects = renderPlatformNamespace(
      resolvePlatformNamespace({ name: "training", quota: { gpus: 8 } }),
    );
    const subjects: Subject[] = objects.map((o) => ({
      layer: "kubernetes",
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata.name,
      namespace: o.metadata.namespace ?? "",
      object: o as unknown as Record<string, unknown>,
      source: { uri: "components/platform-namespace" },
    }));
    const report = evaluate(subjects, allRules);
    expect(report.errors).toEqual([]);
    expect(report.findings.filter((f) => f.status === "violation" && f.enforcement === "mandatory")).toEqual(
      [],
    );
    expect(report.counts.waived).toBe(0);
  });
});
