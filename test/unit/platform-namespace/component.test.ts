import { beforeAll, describe, expect, it } from "vitest";
import * as mod from "../../../components/platform-namespace";
import { installStrictMocks, type RecordedResource, resolved } from "../../helpers/pulumi-mocks";

let recorded: RecordedResource[];

// Mocks only need to be in place before the first resource is constructed.
beforeAll(async () => {
  recorded = (await installStrictMocks()).resources;
});

describe("PlatformNamespace under Pulumi mocks", () => {
  it("registers the component with its type token and one typed resource per object, all parented to it", async () => {
    const ns = new mod.PlatformNamespace("team-a", { name: "team-a", quota: { gpus: 2 } });
    const urn = await resolved(ns.urn);
    expect(urn).toContain("::mlops:cluster:PlatformNamespace::team-a");

    const childUrns = await Promise.all([...ns.resources.values()].map((r) => resolved(r.urn)));
    expect(childUrns.sort()).toEqual(
      [
        "kubernetes:core/v1:LimitRange::team-a-limitrange-team-a-platform-limits",
        "kubernetes:core/v1:Namespace::team-a-namespace-team-a",
        "kubernetes:core/v1:ResourceQuota::team-a-resourcequota-team-a-platform-quota",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy::team-a-networkpolicy-team-a-allow-dns-egress",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy::team-a-networkpolicy-team-a-default-deny-all",
      ].map((tail) => `urn:pulumi:unit::mlops-platform::mlops:cluster:PlatformNamespace$${tail}`),
    );
  });

  it("exposes the namespace name as an output and passes the manifest as the resource's inputs", async () => {
    const ns = new mod.PlatformNamespace("team-b", { name: "team-b" });
    expect(await resolved(ns.name)).toBe("team-b");
    const quota = recorded.find((r) => r.name === "team-b-resourcequota-team-b-platform-quota");
    expect(quota?.type).toBe("kubernetes:core/v1:ResourceQuota");
    expect(quota?.inputs).toMatchObject({
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "platform-quota", namespace: "team-b" },
      spec: { hard: { "requests.nvidia.com/gpu": "0" } },
    });
  });

  it("registers nothing when Args are invalid", () => {
    const before = recorded.length;
    expect(() => new mod.PlatformNamespace("bad", { name: "Bad Name", quota: { pods: -1 } })).toThrow(
      /PlatformNamespace "Bad Name": 2 invalid arguments:\n {2}- name = .*\n {2}- quota\.pods = -1/,
    );
    expect(recorded.length).toBe(before);
  });
});
