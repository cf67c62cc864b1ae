import { describe, expect, it } from "vitest";
import {
  PlatformNamespaceObjectNames as Names,
  renderPlatformNamespace,
  resolvePlatformNamespace,
} from "../../../components/platform-namespace";
import { findObject, type KubeObject } from "../../../components/shared";

const render = (args: Parameters<typeof resolvePlatformNamespace>[0]) =>
  renderPlatformNamespace(resolvePlatformNamespace(args));
const spec = (o: KubeObject) => o.spec as Record<string, unknown>;

describe("PlatformNamespaceChart", () => {
  const objects = render({ name: "ml-team" });

  it("renders exactly the namespace, quota, limits and two network policies", () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      `LimitRange/${Names.limitRange}`,
      "Namespace/ml-team",
      `NetworkPolicy/${Names.dnsEgress}`,
      `NetworkPolicy/${Names.defaultDeny}`,
      `ResourceQuota/${Names.quota}`,
    ]);
    for (const o of objects.filter((o) => o.kind !== "Namespace"))
      expect(o.metadata.namespace).toBe("ml-team");
  });

  it("labels the namespace Pod Security restricted for enforce, audit and warn", () => {
    const labels = findObject(objects, "Namespace", "ml-team").metadata.labels;
    expect(labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
      "app.kubernetes.io/part-of": "mlops-platform",
      "app.kubernetes.io/managed-by": "mlops-platform",
      "mlops-platform.io/namespace-role": "workloads",
    });
  });

  it("keeps audit and warn restricted when enforcement is relaxed", () => {
    const labels = findObject(
      render({ name: "gpu-system", podSecurity: "privileged" }),
      "Namespace",
      "gpu-system",
    ).metadata.labels;
    expect(labels?.["pod-security.kubernetes.io/enforce"]).toBe("privileged");
    expect(labels?.["pod-security.kubernetes.io/audit"]).toBe("restricted");
    expect(labels?.["pod-security.kubernetes.io/warn"]).toBe("restricted");
  });

  it("sets quota hard limits from defaults, with no GPUs unless granted", () => {
    expect(spec(findObject(objects, "ResourceQuota", Names.quota)).hard).toEqual({
      "requests.cpu": "8",
      "requests.memory": "32Gi",
      "limits.cpu": "16",
      "limits.memory": "64Gi",
      "requests.storage": "500Gi",
      pods: "100",
      persistentvolumeclaims: "20",
      "requests.nvidia.com/gpu": "0",
    });
  });

  it("sets quota values and a GPU quota from Args", () => {
    const hard = spec(
      findObject(
        render({ name: "train", quota: { requestsCpu: "12", gpus: 4, pods: 10 } }),
        "ResourceQuota",
        Names.quota,
      ),
    ).hard as Record<string, string>;
    expect(hard["requests.cpu"]).toBe("12");
    expect(hard["requests.nvidia.com/gpu"]).toBe("4");
    expect(hard.pods).toBe("10");
    expect(hard["limits.memory"]).toBe("64Gi");
  });

  it("gives containers default requests and limits", () => {
    expect(spec(findObject(objects, "LimitRange", Names.limitRange)).limits).toEqual([
      {
        type: "Container",
        defaultRequest: { cpu: "100m", memory: "128Mi" },
        default: { cpu: "1", memory: "512Mi" },
      },
    ]);
  });

  it("denies all ingress and egress for every pod", () => {
    const deny = spec(findObject(objects, "NetworkPolicy", Names.defaultDeny));
    expect(deny).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  });

  it("allows only DNS egress to kube-dns in kube-system", () => {
    const dns = spec(findObject(objects, "NetworkPolicy", Names.dnsEgress));
    expect(dns.podSelector).toEqual({});
    expect(dns.policyTypes).toEqual(["Egress"]);
    expect(dns.ingress).toBeUndefined();
    expect(dns.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
            podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
          },
        ],
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
    ]);
  });

  it("leaves DNS denied when dnsEgress is false", () => {
    const names = render({ name: "airgap", dnsEgress: false }).map((o) => o.metadata.name);
    expect(names).not.toContain(Names.dnsEgress);
    expect(names).toContain(Names.defaultDeny);
  });
});
