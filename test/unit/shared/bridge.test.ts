import { describe, expect, it } from "vitest";
import { type KubeObject, planObjects } from "../../../components/shared";

const obj = (
  apiVersion: string,
  kind: string,
  name: string,
  namespace?: string,
  extra: object = {},
): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, ...(namespace ? { namespace } : {}) },
  ...extra,
});

describe("planObjects", () => {
  const crd = obj("apiextensions.k8s.io/v1", "CustomResourceDefinition", "widgets.example.com", undefined, {
    spec: { group: "example.com", names: { kind: "Widget" } },
  });

  it("puts Namespaces and CRDs first and makes dependents wait for them", () => {
    const plan = planObjects("c", [
      obj("v1", "ConfigMap", "cfg", "team"),
      obj("example.com/v1", "Widget", "w", "team"),
      crd,
      obj("v1", "Namespace", "team"),
    ]);
    expect(plan.map((p) => p.object.kind)).toEqual([
      "Namespace",
      "CustomResourceDefinition",
      "ConfigMap",
      "Widget",
    ]);
    expect(plan[2]?.dependsOn).toEqual(["v1/Namespace//team"]);
    expect(plan[3]?.dependsOn).toEqual([
      "v1/Namespace//team",
      "apiextensions.k8s.io/v1/CustomResourceDefinition//widgets.example.com",
    ]);
    expect(plan[0]?.dependsOn).toEqual([]);
  });

  it("makes workloads wait for the ServiceAccount their pods run as", () => {
    const pod = (sa: string) => ({ template: { spec: { serviceAccountName: sa } } });
    const plan = planObjects("c", [
      obj("apps/v1", "StatefulSet", "db", "x", { spec: pod("db") }),
      obj("batch/v1", "CronJob", "job", "x", { spec: { jobTemplate: { spec: pod("db") } } }),
      obj("apps/v1", "Deployment", "other", "x", { spec: pod("not-rendered-here") }),
      obj("v1", "ServiceAccount", "db", "x"),
    ]);
    expect(plan.map((p) => p.dependsOn)).toEqual([
      ["v1/ServiceAccount/x/db"],
      ["v1/ServiceAccount/x/db"],
      [],
      [],
    ]);
  });

  it("does not wait for namespaces it does not create", () => {
    const [only] = planObjects("c", [obj("v1", "ConfigMap", "cfg", "elsewhere")]);
    expect(only?.dependsOn).toEqual([]);
  });

  it("names resources from the prefix, kind, namespace and name", () => {
    const plan = planObjects("ml", [
      obj("v1", "Namespace", "ml"),
      obj("networking.k8s.io/v1", "NetworkPolicy", "deny", "ml"),
    ]);
    expect(plan.map((p) => p.resourceName)).toEqual(["ml-namespace-ml", "ml-networkpolicy-ml-deny"]);
  });

  it("uses typed classes for built-in kinds and CustomResource for other groups", () => {
    const plan = planObjects("c", [
      obj("apps/v1", "Deployment", "d", "x"),
      obj("example.com/v1", "Widget", "w", "x"),
    ]);
    expect(plan.map((p) => p.via)).toEqual(["builtin", "custom"]);
  });

  it("refuses a built-in kind it has no class for, naming where to add it", () => {
    expect(() => planObjects("c", [obj("v1", "Endpoints", "e", "x")])).toThrow(
      /v1\/Endpoints .*components\/shared\/bridge.ts/,
    );
  });

  it("refuses two objects with the same identity", () => {
    expect(() =>
      planObjects("c", [obj("v1", "ConfigMap", "a", "x"), obj("v1", "ConfigMap", "a", "x")]),
    ).toThrow(/two objects render as v1\/ConfigMap\/x\/a/);
  });
});
