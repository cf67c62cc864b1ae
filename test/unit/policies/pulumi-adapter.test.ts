import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { subjectsFromText } from "../../../policies/adapters/manifests";
import { subjectsFromPulumiResources } from "../../../policies/adapters/pulumi";
import { evaluate } from "../../../policies/engine/evaluate";
import { guardUnknowns, UNKNOWN, UnknownValueError } from "../../../policies/engine/unknown";
import { allRules } from "../../../policies/rules";

const FIXTURES = path.resolve(__dirname, "../../../policies/fixtures");
const SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const isUnknown = (v: unknown) => v === SENTINEL;

/** A manifest fixture as CrossGuard would hand it over: type token + props. */
function asPulumi(ruleId: string, which: "pass" | "fail") {
  const { subjects } = subjectsFromText(
    readFileSync(path.join(FIXTURES, ruleId, `${which}.yaml`), "utf8"),
    "f.yaml",
  );
  return subjects.map((s) => {
    const [group, version] = s.apiVersion.includes("/") ? s.apiVersion.split("/") : ["core", s.apiVersion];
    const { apiVersion: _a, kind: _k, ...props } = s.object;
    return {
      type: s.layer === "pulumi" ? s.kind : `kubernetes:${group}/${version}:${s.kind}`,
      name: s.name,
      urn: `urn:pulumi:dev::p::${s.kind}::${s.name}`,
      props,
    };
  });
}

describe("Pulumi resources adapter", () => {
  it("restores apiVersion/kind from type tokens and keeps the URN as the location", () => {
    const [s] = subjectsFromPulumiResources(
      [
        { type: "pulumi:providers:kubernetes", name: "k", urn: "u0", props: {} },
        { type: "kubernetes:yaml/v2:ConfigGroup", name: "g", urn: "u1", props: {} },
        {
          type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
          name: "np",
          urn: "u2",
          props: { metadata: { name: "deny", namespace: "ml" }, spec: {} },
        },
      ],
      isUnknown,
    );
    expect(s).toMatchObject({
      layer: "kubernetes",
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      name: "deny",
      namespace: "ml",
      source: { uri: "u2" },
    });
  });

  it.each(["pod-no-privileged", "namespace-default-deny", "aws-s3-public-access-block"])(
    "gives the same verdicts as the manifest adapter (%s)",
    (ruleId) => {
      for (const which of ["pass", "fail"] as const) {
        const subjects = subjectsFromPulumiResources(asPulumi(ruleId, which), isUnknown);
        const count = evaluate(subjects, allRules).findings.filter(
          (f) => f.ruleId === ruleId && f.status === "violation",
        ).length;
        expect(count > 0, `${ruleId} ${which}`).toBe(which === "fail");
      }
    },
  );

  it("turns unknowns into not-evaluated findings naming the path; rules not reading them still run", () => {
    const [res] = asPulumi("pod-no-privileged", "fail").filter((r) => r.type.endsWith("Deployment"));
    if (!res) throw new Error("fixture has no Deployment");
    const props = structuredClone(res.props) as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    const container = props.spec.template.spec.containers[0];
    if (!container) throw new Error("fixture has no container");
    container.image = SENTINEL;
    const subjects = subjectsFromPulumiResources([{ ...res, props }], isUnknown);
    expect(subjects[0]?.unknownPaths).toEqual(["spec.template.spec.containers[0].image"]);
    const report = evaluate(subjects, allRules);
    const tag = report.findings.find((f) => f.ruleId === "image-tag-not-latest");
    expect(tag).toMatchObject({ status: "not-evaluated", path: "spec.template.spec.containers[0].image" });
    expect(report.findings.find((f) => f.ruleId === "pod-no-privileged")?.status).toBe("violation");
    expect(report.counts.notEvaluated).toBeGreaterThan(0);
    expect(report.errors).toEqual([]);
  });

  it("the guard throws with the full path on read and lets known siblings through", () => {
    const g = guardUnknowns({ a: { b: [1, UNKNOWN] }, c: "x" });
    expect(g.c).toBe("x");
    expect(g.a.b[0]).toBe(1);
    expect(() => g.a.b[1]).toThrow(UnknownValueError);
    expect(() => g.a.b[1]).toThrow("a.b[1]");
  });
});
