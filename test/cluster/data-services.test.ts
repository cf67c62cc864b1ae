import { readFileSync } from "node:fs";
import type * as kube from "@kubernetes/client-node";
import * as k8s from "@pulumi/kubernetes";
import type * as auto from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { composeDataServices } from "../../examples/data-services";
import {
  changesOf,
  destroyLeavesNothing,
  inlineTestStack,
  kubeClients,
  readTree,
  statusOf,
  type TestStack,
  waitFor,
} from "../helpers/cluster";

/**
 * The four data services composed as a stack composes them (only typed connections pass between
 * them), through the real Pulumi CLI on a real API server: everything is created, Jobs complete
 * before what depends on them, servers become ready, no generated credential appears in plain text
 * anywhere but its Secret, a second `up` changes nothing, and `destroy` leaves nothing.
 */
const kubeconfig = inject("kubeconfig");
const localCluster = inject("localCluster");
const NAMESPACE = "cluster-test-data";

function program(): auto.PulumiFn {
  return async () => {
    const provider = new k8s.Provider("local", { kubeconfig: readFileSync(kubeconfig, "utf8") });
    const { mlflow, feast } = composeDataServices({ namespace: NAMESPACE }, { providers: [provider] });
    return {
      trackingUri: mlflow.trackingUri,
      featureServerUrl: feast.featureServerUrl,
      adminSecret: mlflow.adminSecretName,
    };
  };
}

/** Static volumes for the StatefulSets' claims: a KWOK cluster has no storage provisioner. */
async function createVolumes(core: kube.CoreV1Api, count: number) {
  for (let i = 0; i < count; i++) {
    await core
      .createPersistentVolume({
        body: {
          metadata: {
            name: `cluster-test-data-pv-${i}`,
            labels: { "mlops-platform.io/test": "data-services" },
          },
          spec: {
            capacity: { storage: "100Gi" },
            accessModes: ["ReadWriteOnce"],
            persistentVolumeReclaimPolicy: "Delete",
            hostPath: { path: `/tmp/cluster-test-data-pv-${i}` },
          },
        },
      })
      .catch((err) => {
        if (statusOf(err) !== 409) throw err;
      });
  }
}

describe("the data services composed, through `pulumi up` on a real API server", () => {
  const api = kubeClients(kubeconfig);
  let test: TestStack;
  let firstUp: auto.UpResult;
  let log = "";
  const record = (s: string) => {
    log += s;
    process.stdout.write(s);
  };

  beforeAll(async () => {
    if (localCluster) await createVolumes(api.core, 3);
    test = await inlineTestStack("cluster-data-services", program());
    firstUp = await test.stack.up({ onOutput: record });
  });

  afterAll(async () => {
    try {
      await test?.stack.destroy({ onOutput: (s) => process.stdout.write(s) });
    } finally {
      await test?.dispose();
      if (localCluster)
        await api.core.deleteCollectionPersistentVolume({
          labelSelector: "mlops-platform.io/test=data-services",
        });
    }
  });

  it("creates every component and exports typed endpoints", () => {
    expect(firstUp.summary.result).toBe("succeeded");
    expect(firstUp.outputs.trackingUri?.value).toBe(`http://mlflow.${NAMESPACE}.svc:5000`);
    expect(firstUp.outputs.featureServerUrl?.value).toBe(`http://feast.${NAMESPACE}.svc:6566`);
    expect(firstUp.outputs.adminSecret?.value).toBe("mlflow-admin");
    expect(firstUp.summary.resourceChanges?.create).toBeGreaterThan(60);
  });

  it("the bootstrap, bucket and migration Jobs complete; the migration before MLflow's Deployment exists", async () => {
    const jobs = await api.batch.listNamespacedJob({ namespace: NAMESPACE });
    const names = jobs.items.map((j) => j.metadata?.name ?? "");
    expect(names.some((n) => n.startsWith("postgres-bootstrap-"))).toBe(true);
    expect(names.some((n) => n.startsWith("object-store-buckets-"))).toBe(true);
    for (const j of jobs.items)
      expect(
        j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True"),
        `Job ${j.metadata?.name} complete`,
      ).toBe(true);
    const migration = jobs.items.find((j) => j.metadata?.name?.startsWith("mlflow-migrate-"));
    const deployment = await api.apps.readNamespacedDeployment({ name: "mlflow", namespace: NAMESPACE });
    const completed = migration?.status?.completionTime;
    const created = deployment.metadata?.creationTimestamp;
    expect(completed).toBeDefined();
    expect(created).toBeDefined();
    // Both have second precision; truncation keeps the order.
    expect(new Date(created as Date).getTime()).toBeGreaterThanOrEqual(new Date(completed as Date).getTime());
  });

  it("servers become ready: MLflow and Feast with two replicas spread over nodes, the stateful ones with their volumes", async () => {
    for (const name of ["mlflow", "feast"]) {
      const d = await waitFor(`Deployment ${name} ready`, async () => {
        const x = await api.apps.readNamespacedDeployment({ name, namespace: NAMESPACE });
        return x.status?.readyReplicas === 2 ? x : undefined;
      });
      expect(d.spec?.replicas).toBe(2);
    }
    for (const name of ["postgres", "object-store", "redis"]) {
      const s = await waitFor(`StatefulSet ${name} ready`, async () => {
        const x = await api.apps.readNamespacedStatefulSet({ name, namespace: NAMESPACE });
        return x.status?.readyReplicas === 1 ? x : undefined;
      });
      expect(s.status?.readyReplicas).toBe(1);
    }
    const pods = await api.core.listNamespacedPod({
      namespace: NAMESPACE,
      labelSelector: "app.kubernetes.io/name=mlflow,app.kubernetes.io/component=server",
    });
    expect(new Set(pods.items.map((p) => p.spec?.nodeName)).size).toBe(2);
  });

  it("no generated credential appears in plain text outside its Secret: not in other objects, state or logs", async () => {
    const values: string[] = [];
    const secrets = await api.core.listNamespacedSecret({ namespace: NAMESPACE });
    for (const s of secrets.items)
      for (const v of Object.values(s.data ?? {})) {
        const text = Buffer.from(v, "base64").toString("utf8");
        if (/^[A-Za-z0-9]{20,}$/.test(text)) values.push(text);
      }
    // postgres admin + 2 consumers, object-store key id + secret, redis, mlflow admin + flask key.
    expect(values.length).toBeGreaterThanOrEqual(8);
    const others = JSON.stringify([
      (await api.apps.listNamespacedDeployment({ namespace: NAMESPACE })).items,
      (await api.apps.listNamespacedStatefulSet({ namespace: NAMESPACE })).items,
      (await api.batch.listNamespacedJob({ namespace: NAMESPACE })).items,
      (await api.core.listNamespacedConfigMap({ namespace: NAMESPACE })).items,
      (await api.core.listNamespacedPod({ namespace: NAMESPACE })).items,
    ]);
    const state = readTree(test.backendDir);
    const config = JSON.stringify(await test.stack.getAllConfig());
    for (const v of values) {
      expect(others.includes(v), "a generated value in a non-Secret object").toBe(false);
      expect(log.includes(v), "a generated value in the CLI output").toBe(false);
      expect(config.includes(v), "a generated value in stack config").toBe(false);
      for (const [file, text] of state) expect(text.includes(v), file).toBe(false);
    }
  });

  it("a second `up` changes nothing", async () => {
    const again = await test.stack.up({ onOutput: record });
    expect(again.summary.result).toBe("succeeded");
    expect(changesOf(again.summary.resourceChanges)).toEqual({});
  });

  it("`destroy` leaves nothing behind", async () => {
    const result = await destroyLeavesNothing(test, api.core, NAMESPACE, localCluster ? 120_000 : 300_000);
    expect(result.summary.result).toBe("succeeded");
  });
});
