import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as kube from "@kubernetes/client-node";
import * as k8s from "@pulumi/kubernetes";
import type * as auto from "@pulumi/pulumi/automation";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { PlatformNamespace } from "../../components/platform-namespace";
import { Runtime } from "../../components/runtime";
import { GPU_NODE_LABEL } from "../../components/shared";
import { toolchain } from "../../scripts/lib/toolchain";
import { inlineTestStack, kubeClients, type TestStack, waitFor } from "../helpers/cluster";
import { freePort } from "../helpers/postgres";

/**
 * The runtime against a real API server with its own identity: the Runtime component's RBAC is
 * deployed through Pulumi, the runtime process authenticates with a token of its ServiceAccount,
 * runs a three-step pipeline with a GPU step as Jobs (KWOK nodes complete them), is killed with
 * SIGKILL in the middle and restarted, and finishes with exactly one Job per step. A
 * `kubectl auth can-i` matrix shows what the ServiceAccount can and cannot do.
 */
const kubeconfig = inject("kubeconfig");
const DATA = "rt-data";
const TRAIN = "rt-train";
const SERVING = "rt-serving";
const ADMIN = "mlops_cluster-test-admin";

function program(): auto.PulumiFn {
  return async () => {
    const provider = new k8s.Provider("local", { kubeconfig: readFileSync(kubeconfig, "utf8") });
    const opts = { providers: [provider] };
    const data = new PlatformNamespace("data", { name: DATA, role: "data" }, opts);
    const train = new PlatformNamespace("train", { name: TRAIN, quota: { gpus: 4 } }, opts);
    const serving = new PlatformNamespace("serving", { name: SERVING, role: "serving" }, opts);
    new Runtime(
      "runtime",
      {
        namespace: DATA,
        profile: "local",
        database: {
          host: "postgres",
          port: 5432,
          database: "runtime",
          username: "runtime",
          sslMode: "disable",
          secretName: "postgres-runtime-credentials",
        },
        jobNamespace: TRAIN,
        servingNamespaces: [SERVING],
      },
      { ...opts, dependsOn: [data, train, serving] },
    );
  };
}

const PIPELINE = `apiVersion: mlops-platform.io/v1
kind: Pipeline
metadata: { name: churn }
spec:
  steps:
    - { name: prepare, image: "registry.k8s.io/pause:3.10", command: [/pause], resources: { cpu: 500m, memory: 512Mi } }
    - { name: train, image: "registry.k8s.io/pause:3.10", command: [/pause], resources: { cpu: "1", memory: 2Gi, gpu: 1 }, dependsOn: [prepare] }
    - { name: evaluate, image: "registry.k8s.io/pause:3.10", command: [/pause], resources: { cpu: 500m, memory: 512Mi }, dependsOn: [train] }
`;

/** A kubeconfig for the runtime's own ServiceAccount (a TokenRequest token), on the test cluster. */
async function serviceAccountKubeconfig(dir: string): Promise<string> {
  const admin = new kube.KubeConfig();
  admin.loadFromFile(kubeconfig);
  const core = admin.makeApiClient(kube.CoreV1Api);
  const tr = await core.createNamespacedServiceAccountToken({
    name: "runtime",
    namespace: DATA,
    body: { spec: { expirationSeconds: 3600, audiences: [] } },
  });
  const cluster = admin.getCurrentCluster() as kube.Cluster;
  const sa = new kube.KubeConfig();
  sa.loadFromOptions({
    clusters: [cluster],
    users: [{ name: "runtime", token: tr.status?.token }],
    contexts: [{ name: "runtime", cluster: cluster.name, user: "runtime" }],
    currentContext: "runtime",
  });
  const file = path.join(dir, "runtime.kubeconfig");
  writeFileSync(file, sa.exportConfig(), { mode: 0o600 });
  return file;
}

/** The serving operators' CRDs (schema-less), so `kubectl auth can-i` can resolve their resources. */
async function installServingCrds(file: string): Promise<void> {
  const kc = new kube.KubeConfig();
  kc.loadFromFile(file);
  const ext = kc.makeApiClient(kube.ApiextensionsV1Api);
  for (const [group, plural, kind] of [
    ["machinelearning.seldon.io", "seldondeployments", "SeldonDeployment"],
    ["serving.kserve.io", "inferenceservices", "InferenceService"],
  ] as const) {
    await ext
      .createCustomResourceDefinition({
        body: {
          metadata: { name: `${plural}.${group}` },
          spec: {
            group,
            scope: "Namespaced",
            names: { plural, kind, singular: kind.toLowerCase() },
            versions: [
              {
                name: "v1",
                served: true,
                storage: true,
                schema: {
                  openAPIV3Schema: {
                    type: "object",
                    "x-kubernetes-preserve-unknown-fields": true,
                  } as kube.V1JSONSchemaProps,
                },
              },
            ],
          },
        },
      })
      .catch((err) => {
        if (!(err instanceof kube.ApiException && err.code === 409)) throw err;
      });
  }
  // Discovery catches up with new CRDs within a few seconds.
  await new Promise((r) => setTimeout(r, 3000));
}

describe("the runtime on a real API server with its own ServiceAccount", () => {
  const api = kubeClients(kubeconfig);
  let test: TestStack;
  let dir: string;
  let saConfig: string;
  let proc: ChildProcess | undefined;
  let out = "";
  let url = "";

  async function startRuntime(port: number): Promise<void> {
    proc = spawn(process.execPath, [path.resolve("runtime/bin/mlops.js"), "serve"], {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        KUBECONFIG: saConfig,
        MLOPS_EXECUTOR: "kubernetes",
        MLOPS_JOB_NAMESPACE: TRAIN,
        MLOPS_JOB_SERVICE_ACCOUNT: "pipeline-step",
        MLOPS_DATA_DIR: path.join(dir, "pglite"),
        MLOPS_LISTEN: `127.0.0.1:${port}`,
        MLOPS_ADMIN_TOKEN: ADMIN,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const p = proc;
    p.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
    });
    p.stderr?.on("data", (b: Buffer) => {
      out += b.toString();
    });
    url = `http://127.0.0.1:${port}`;
    await waitFor(
      `the runtime at ${url}`,
      async () => {
        if (p.exitCode !== null) throw new Error(`runtime exited ${p.exitCode}:\n${out}`);
        return (await fetch(`${url}/readyz`).catch(() => undefined))?.ok ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  }
  const call = async (method: string, p: string, body?: string) => {
    const res = await fetch(`${url}${p}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/yaml" },
      ...(body ? { body } : {}),
    });
    return (await res.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "mlops-runtime-cluster-"));
    test = await inlineTestStack("cluster-runtime", program());
    const up = await test.stack.up({ onOutput: (s) => process.stdout.write(s) });
    expect(up.summary.result).toBe("succeeded");
    saConfig = await serviceAccountKubeconfig(dir);
    await installServingCrds(kubeconfig);
  });

  afterAll(async () => {
    if (proc && proc.exitCode === null) proc.kill("SIGKILL");
    console.log(`runtime output:\n${out}`);
    try {
      await test?.stack.destroy({ onOutput: (s) => process.stdout.write(s) });
    } finally {
      await test?.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("kubectl auth can-i: the ServiceAccount may run Jobs and read logs in the step namespace, deploy models in serving, nothing else", () => {
    const kubectl = path.join(toolchain().binDirs.kubernetes, "kubectl");
    const can = (verb: string, resource: string, ns?: string) =>
      spawnSync(
        kubectl,
        ["--kubeconfig", saConfig, "auth", "can-i", verb, resource, ...(ns ? ["-n", ns] : [])],
        { encoding: "utf8" },
      ).stdout.trim();
    const matrix: [string, string, string | undefined, "yes" | "no"][] = [
      ["create", "jobs.batch", TRAIN, "yes"],
      ["delete", "jobs.batch", TRAIN, "yes"],
      ["watch", "jobs.batch", TRAIN, "yes"],
      ["get", "pods/log", TRAIN, "yes"],
      ["create", "seldondeployments.machinelearning.seldon.io", SERVING, "yes"],
      ["patch", "inferenceservices.serving.kserve.io", SERVING, "yes"],
      ["create", "jobs.batch", SERVING, "no"],
      ["create", "jobs.batch", DATA, "no"],
      ["create", "seldondeployments.machinelearning.seldon.io", TRAIN, "no"],
      ["get", "secrets", TRAIN, "no"],
      ["get", "secrets", DATA, "no"],
      ["create", "pods", TRAIN, "no"],
      ["exec", "pods", TRAIN, "no"],
      ["create", "deployments.apps", TRAIN, "no"],
      ["update", "roles.rbac.authorization.k8s.io", TRAIN, "no"],
      ["list", "nodes", undefined, "no"],
      ["create", "namespaces", undefined, "no"],
    ];
    const got = matrix.map(([v, r, ns]) => [v, r, ns ?? "(cluster)", can(v, r, ns)]);
    console.log(got.map((g) => g.join("  ")).join("\n"));
    expect(got.map((g) => g[3])).toEqual(matrix.map((m) => m[3]));
  });

  it("runs a three-step pipeline with a GPU step; kill -9 in the middle and a restart finish it with one Job per step", async () => {
    const port = await freePort();
    await startRuntime(port);
    expect((await call("PUT", "/api/v1/pipelines", PIPELINE)).version).toBe(1);
    const { runId } = (await call("POST", "/api/v1/pipelines/churn/runs")) as { runId: string };
    // Kill the runtime the moment the GPU step's Job exists.
    await waitFor(
      "the train Job",
      async () => {
        const jobs = await api.batch.listNamespacedJob({
          namespace: TRAIN,
          labelSelector: `mlops-platform.io/run=${runId},mlops-platform.io/step=train`,
        });
        return jobs.items.length > 0 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 20 },
    );
    proc?.kill("SIGKILL");
    await new Promise((r) => proc?.once("exit", r));
    await startRuntime(port);
    const run = await waitFor(
      "the run to finish",
      async () => {
        const r = (await call("GET", `/api/v1/runs/${runId}`)) as {
          state: string;
          steps: { name: string; state: string; attempt: number }[];
        };
        return ["succeeded", "failed", "cancelled"].includes(r.state) ? r : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 200 },
    );
    expect(run.state, out).toBe("succeeded");
    expect(run.steps.map((s) => [s.name, s.attempt])).toEqual([
      ["prepare", 1],
      ["train", 1],
      ["evaluate", 1],
    ]);
    const jobs = await api.batch.listNamespacedJob({
      namespace: TRAIN,
      labelSelector: `mlops-platform.io/run=${runId}`,
    });
    expect(jobs.items.map((j) => j.metadata?.name).sort()).toEqual([
      `churn-${runId}-evaluate-1`,
      `churn-${runId}-prepare-1`,
      `churn-${runId}-train-1`,
    ]);
    const pods = await api.core.listNamespacedPod({
      namespace: TRAIN,
      labelSelector: `mlops-platform.io/run=${runId},mlops-platform.io/step=train`,
    });
    expect(pods.items.length).toBe(1);
    const node = await api.core.readNode({ name: pods.items[0]?.spec?.nodeName ?? "" });
    expect(node.metadata?.labels?.[GPU_NODE_LABEL.key]).toBe(GPU_NODE_LABEL.value);
    expect(pods.items[0]?.spec?.serviceAccountName).toBe("pipeline-step");
    expect(out).toMatch(/leader; resuming work in flight[\s\S]*leader; resuming work in flight/);
  });
});
