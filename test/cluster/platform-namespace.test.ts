import { readFileSync } from "node:fs";
import * as k8s from "@pulumi/kubernetes";
import type * as auto from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PlatformNamespace } from "../../components/platform-namespace";
import {
  GeneratedSecret,
  GPU_NODE_LABEL,
  GPU_RESOURCE,
  gpuNodeSelector,
  gpuToleration,
} from "../../components/shared";
import {
  changesOf,
  destroyLeavesNothing,
  inlineTestStack,
  kubeClients,
  readTree,
  type TestStack,
  waitFor,
} from "../helpers/cluster";

/**
 * The first end-to-end slice on a real API server through the real Pulumi engine: a
 * PlatformNamespace, a plain Deployment and a GPU training Job, deployed, re-deployed and destroyed.
 */
const kubeconfig = inject("kubeconfig");
const localCluster = inject("localCluster");
const NAMESPACE = "cluster-test-ml";

/** Pod settings the namespace's Pod Security `restricted` level admits. */
const restrictedPod = {
  securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
  automountServiceAccountToken: false,
};
const restrictedContainer = {
  securityContext: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
  },
};

function program(): auto.PulumiFn {
  return async () => {
    const provider = new k8s.Provider("local", { kubeconfig: readFileSync(kubeconfig, "utf8") });
    const ns = new PlatformNamespace(
      "ml",
      { name: NAMESPACE, quota: { gpus: 4 } },
      { providers: [provider] },
    );
    const web = new k8s.apps.v1.Deployment(
      "web",
      {
        metadata: { name: "web", namespace: ns.name },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: {
            metadata: { labels: { app: "web" } },
            spec: {
              ...restrictedPod,
              containers: [
                {
                  name: "web",
                  image: "registry.k8s.io/pause:3.10",
                  resources: {
                    requests: { cpu: "100m", memory: "64Mi" },
                    limits: { cpu: "200m", memory: "128Mi" },
                  },
                  ...restrictedContainer,
                },
              ],
            },
          },
        },
      },
      { provider },
    );
    const train = new k8s.batch.v1.Job(
      "gpu-train",
      {
        metadata: { name: "gpu-train", namespace: ns.name },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: { labels: { app: "gpu-train" } },
            spec: {
              ...restrictedPod,
              restartPolicy: "Never",
              nodeSelector: gpuNodeSelector(),
              tolerations: [gpuToleration()],
              containers: [
                {
                  name: "train",
                  image: "registry.k8s.io/pause:3.10",
                  resources: {
                    requests: { cpu: "1", memory: "1Gi", [GPU_RESOURCE]: "1" },
                    limits: { cpu: "2", memory: "2Gi", [GPU_RESOURCE]: "1" },
                  },
                  ...restrictedContainer,
                },
              ],
            },
          },
        },
      },
      { provider },
    );
    const password = new GeneratedSecret("app-password");
    new k8s.core.v1.Secret(
      "app-credentials",
      {
        metadata: { name: "app-credentials", namespace: ns.name },
        stringData: { password: password.result },
      },
      { provider },
    );
    return { namespace: ns.name, deployment: web.metadata.name, job: train.metadata.name };
  };
}

describe("PlatformNamespace + workloads through `pulumi up` on a real API server", () => {
  const api = kubeClients(kubeconfig);
  let test: TestStack;
  let firstUp: auto.UpResult;
  let log = "";
  const record = (s: string) => {
    log += s;
    process.stdout.write(s);
  };

  beforeAll(async () => {
    test = await inlineTestStack("cluster-platform-namespace", program());
    firstUp = await test.stack.up({ onOutput: record });
  });

  afterAll(async () => {
    // Leaves nothing behind even when an assertion failed half way.
    try {
      await test?.stack.destroy({ onOutput: (s) => process.stdout.write(s) });
    } finally {
      await test?.dispose();
    }
  });

  it("creates every object as its own resource", () => {
    expect(firstUp.summary.result).toBe("succeeded");
    // Stack, component, 6 namespace objects, Deployment, Job, GeneratedSecret, Secret (the
    // summary does not count provider instances).
    expect(firstUp.summary.resourceChanges).toEqual({ create: 12 });
    expect(firstUp.outputs.namespace?.value).toBe(NAMESPACE);
  });

  it("the namespace objects exist on the API server as rendered", async () => {
    const ns = await api.core.readNamespace({ name: NAMESPACE });
    expect(ns.metadata?.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
    });
    const quota = await api.core.readNamespacedResourceQuota({
      name: "platform-quota",
      namespace: NAMESPACE,
    });
    expect(quota.spec?.hard?.[`requests.${GPU_RESOURCE}`]).toBe("4");
    await api.core.readNamespacedLimitRange({ name: "platform-limits", namespace: NAMESPACE });
    const policies = await api.networking.listNamespacedNetworkPolicy({ namespace: NAMESPACE });
    const byName = new Map(policies.items.map((p) => [p.metadata?.name, p]));
    expect(byName.get("default-deny-all")?.spec?.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(byName.get("default-deny-all")?.spec?.podSelector).toEqual({});
    expect(byName.has("allow-dns-egress")).toBe(true);
  });

  it("the Deployment becomes Available and its pods never land on a GPU node", async () => {
    const deployment = await waitFor("Deployment web Available", async () => {
      const d = await api.apps.readNamespacedDeployment({ name: "web", namespace: NAMESPACE });
      const available = d.status?.conditions?.find((c) => c.type === "Available")?.status === "True";
      return available && d.status?.availableReplicas === 2 ? d : undefined;
    });
    expect(deployment.status?.readyReplicas).toBe(2);
    const pods = await api.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "app=web" });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      const node = await api.core.readNode({ name: pod.spec?.nodeName ?? "<unscheduled>" });
      expect(
        node.metadata?.labels?.[GPU_NODE_LABEL.key],
        `pod ${pod.metadata?.name} on ${node.metadata?.name}`,
      ).toBeUndefined();
    }
  });

  it("the GPU Job's pod lands on a GPU node and the Job completes", async () => {
    const pod = await waitFor("a scheduled gpu-train pod", async () => {
      const pods = await api.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: "app=gpu-train" });
      return pods.items.find((p) => p.spec?.nodeName);
    });
    const node = await api.core.readNode({ name: pod.spec?.nodeName ?? "" });
    expect(node.metadata?.labels?.[GPU_NODE_LABEL.key]).toBe(GPU_NODE_LABEL.value);
    expect(Number(node.status?.allocatable?.[GPU_RESOURCE])).toBeGreaterThanOrEqual(1);
    const job = await waitFor("Job gpu-train Complete", async () => {
      const j = await api.batch.readNamespacedJob({ name: "gpu-train", namespace: NAMESPACE });
      return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ? j : undefined;
    });
    expect(job.status?.succeeded).toBe(1);
  });

  it("a generated credential reaches a Kubernetes Secret and nowhere else in plain text", async () => {
    const secret = await api.core.readNamespacedSecret({ name: "app-credentials", namespace: NAMESPACE });
    const password = Buffer.from(secret.data?.password ?? "", "base64").toString("utf8");
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    // The state files as the CLI wrote them (exportStack would decrypt): the value is ciphertext there.
    const state = readTree(test.backendDir);
    expect(state.size).toBeGreaterThan(0);
    for (const [file, text] of state) expect(text.includes(password), file).toBe(false);
    expect(log).not.toContain(password);
    expect(log.length).toBeGreaterThan(0);
  });

  it("a second `up` changes nothing", async () => {
    const again = await test.stack.up({ onOutput: record });
    expect(again.summary.result).toBe("succeeded");
    expect(changesOf(again.summary.resourceChanges)).toEqual({});
  });

  it("`destroy` leaves nothing behind", async () => {
    const result = await destroyLeavesNothing(test, api.core, NAMESPACE, localCluster ? 60_000 : 300_000);
    expect(result.summary.result).toBe("succeeded");
  });
});
