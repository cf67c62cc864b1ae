import { execFile } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { GPU_NODE_LABEL, GPU_RESOURCE, GPU_TAINT } from "../../components/shared/gpu";
import { NODE_POOL_LABEL, type NodePoolRole, SYSTEM_TAINT } from "../../components/shared/nodes";
import type { KubeObject } from "../../components/shared/render";
import { defaultStateDir } from "./pulumi-env";
import { pathWithToolchain, pinnedVersions, toolBinary } from "./toolchain";

/**
 * The local cluster: a real kube-apiserver, etcd, kube-controller-manager and kube-scheduler run
 * as plain processes by `kwokctl --runtime binary`, with simulated nodes (KWOK) standing in for
 * kubelets. Pods are scheduled by the real scheduler against the nodes' capacity, labels and
 * taints; KWOK then marks them Running/Ready and completes Job pods.
 */

export interface NodePoolSpec {
  readonly role: NodePoolRole;
  readonly count: number;
  readonly cpu: string;
  readonly memory: string;
  /** Node-local scratch space (`ephemeral-storage`), which pods with emptyDir limits request. */
  readonly ephemeralStorage: string;
  /** `nvidia.com/gpu` per node (GPU pools only). */
  readonly gpus?: number;
}

/** Shaped like a small production layout: one system node, CPU workers, GPU workers. */
export const DEFAULT_NODE_POOLS: readonly NodePoolSpec[] = [
  { role: "system", count: 1, cpu: "4", memory: "16Gi", ephemeralStorage: "50Gi" },
  { role: "cpu", count: 2, cpu: "8", memory: "32Gi", ephemeralStorage: "100Gi" },
  { role: "gpu", count: 2, cpu: "8", memory: "64Gi", ephemeralStorage: "200Gi", gpus: 4 },
];

export const DEFAULT_CLUSTER_NAME = "mlops-local";

/** The annotation the kwok controller started by kwokctl manages nodes by. */
const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";

/** The Node objects for the pools: labels and taints from components/shared, so pools and workloads agree. */
export function localClusterNodes(pools: readonly NodePoolSpec[] = DEFAULT_NODE_POOLS): KubeObject[] {
  const nodes: KubeObject[] = [];
  for (const pool of pools) {
    if (!Number.isInteger(pool.count) || pool.count < 0) {
      throw new Error(`node pool '${pool.role}': count must be a whole number >= 0, got ${pool.count}`);
    }
    if (pool.role === "gpu" && !(pool.gpus && pool.gpus > 0)) {
      throw new Error(`node pool 'gpu': gpus must be >= 1 per node, got ${pool.gpus}; set gpus, e.g. 4`);
    }
    for (let i = 0; i < pool.count; i++) {
      const name = `${pool.role}-${i}`;
      const resources: Record<string, string> = {
        cpu: pool.cpu,
        memory: pool.memory,
        "ephemeral-storage": pool.ephemeralStorage,
        pods: "110",
      };
      if (pool.role === "gpu") resources[GPU_RESOURCE] = String(pool.gpus);
      const taints =
        pool.role === "gpu" ? [{ ...GPU_TAINT }] : pool.role === "system" ? [{ ...SYSTEM_TAINT }] : [];
      nodes.push({
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name,
          labels: {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "node.kubernetes.io/instance-type": pool.role === "gpu" ? "local-gpu" : "local-cpu",
            type: "kwok",
            [NODE_POOL_LABEL]: pool.role,
            ...(pool.role === "gpu" ? { [GPU_NODE_LABEL.key]: GPU_NODE_LABEL.value } : {}),
          },
          annotations: { [KWOK_NODE_ANNOTATION]: "fake" },
        },
        spec: { taints },
        status: { capacity: resources, allocatable: resources },
      });
    }
  }
  return nodes;
}

export interface LocalClusterPaths {
  /** KWOK's working folder (cluster data, certificates, process logs). */
  readonly workdir: string;
  /** The kubeconfig for the cluster: the known path tests and users point at. */
  readonly kubeconfig: string;
}

export function localClusterPaths(
  name = DEFAULT_CLUSTER_NAME,
  stateDir = defaultStateDir(),
): LocalClusterPaths {
  return { workdir: path.join(stateDir, "kwok"), kubeconfig: path.join(stateDir, `${name}.kubeconfig`) };
}

const execFileP = promisify(execFile);

export interface ClusterOptions {
  readonly name?: string;
  readonly stateDir?: string;
  readonly pools?: readonly NodePoolSpec[];
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
}

class Session {
  readonly name: string;
  readonly paths: LocalClusterPaths;
  readonly log: (line: string) => void;
  private readonly start = Date.now();
  private readonly env: NodeJS.ProcessEnv;

  constructor(opts: ClusterOptions) {
    this.name = opts.name ?? DEFAULT_CLUSTER_NAME;
    this.paths = localClusterPaths(this.name, opts.stateDir);
    const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    this.log = (line) =>
      log(`cluster ${this.name}: ${line} (${((Date.now() - this.start) / 1000).toFixed(1)} s)`);
    this.env = {
      ...process.env,
      PATH: pathWithToolchain(),
      KWOK_WORKDIR: this.paths.workdir,
      KWOK_KUBE_VERSION: pinnedVersions().KUBERNETES_VERSION,
    };
  }

  /** Runs a tool; on failure the error names the command and carries its output. */
  async run(cmd: string, args: readonly string[], input?: string): Promise<string> {
    const child = execFileP(cmd, args, { env: this.env, maxBuffer: 64 * 1024 * 1024 });
    if (input !== undefined) {
      child.child.stdin?.end(input);
    }
    try {
      const { stdout } = await child;
      return stdout;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      const output = `${e.stdout ?? ""}${e.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n");
      throw new Error(
        `${path.basename(cmd)} ${args.join(" ")} failed: ${e.message.split("\n")[0]}\n${output}`,
      );
    }
  }

  kwokctl(...args: string[]): Promise<string> {
    return this.run(toolBinary("kwok", "kwokctl"), ["--name", this.name, ...args]);
  }

  kubectl(args: readonly string[], input?: string): Promise<string> {
    return this.run(
      toolBinary("kubernetes", "kubectl"),
      ["--kubeconfig", this.paths.kubeconfig, ...args],
      input,
    );
  }

  async exists(): Promise<boolean> {
    const out = await this.run(toolBinary("kwok", "kwokctl"), ["get", "clusters"]);
    return out.split("\n").some((line) => line.trim() === this.name);
  }

  async serving(): Promise<boolean> {
    if (!existsSync(this.paths.kubeconfig)) return false;
    try {
      await this.kubectl(["get", "--raw", "/readyz", "--request-timeout=5s"]);
      return true;
    } catch {
      return false;
    }
  }
}

/** Creates (or restarts) the cluster and its nodes; running it again changes nothing. */
export async function clusterUp(opts: ClusterOptions = {}): Promise<LocalClusterPaths> {
  const s = new Session(opts);
  if (await s.serving()) {
    s.log("already running");
  } else if (await s.exists()) {
    s.log("exists but is stopped; starting it");
    await s.kwokctl("start", "cluster", "--wait", "120s");
  } else {
    s.log("creating (kwokctl --runtime binary, toolchain binaries)");
    const bin = (tool: "etcd" | "kwok" | "kubernetes", name: string) => toolBinary(tool, name);
    await s.kwokctl(
      "create",
      "cluster",
      "--runtime",
      "binary",
      "--kubeconfig",
      s.paths.kubeconfig,
      "--kube-apiserver-binary",
      bin("kubernetes", "kube-apiserver"),
      "--kube-controller-manager-binary",
      bin("kubernetes", "kube-controller-manager"),
      "--kube-scheduler-binary",
      bin("kubernetes", "kube-scheduler"),
      "--etcd-binary",
      bin("etcd", "etcd"),
      "--kwok-controller-binary",
      bin("kwok", "kwok"),
      "--wait",
      "120s",
    );
  }
  s.log("API server ready; applying nodes");
  const nodes = localClusterNodes(opts.pools);
  await s.kubectl(
    ["apply", "--server-side", "--field-manager=mlops-local-cluster", "-f", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items: nodes }),
  );
  await s.kubectl(["wait", "--for=condition=Ready", "node", "--all", "--timeout=120s"]);
  s.log(`ready: ${nodes.length} nodes; kubeconfig ${s.paths.kubeconfig}`);
  return s.paths;
}

/** Deletes the cluster and its kubeconfig; a cluster that is not there is fine. */
export async function clusterDown(opts: ClusterOptions = {}): Promise<void> {
  const s = new Session(opts);
  if (await s.exists()) {
    s.log("deleting");
    await s.kwokctl("delete", "cluster");
  } else {
    s.log("not present");
  }
  rmSync(s.paths.kubeconfig, { force: true });
  s.log("gone");
}

export interface ClusterStatus {
  readonly name: string;
  readonly exists: boolean;
  readonly serving: boolean;
  readonly kubeconfig: string;
  /** `kubectl get nodes` with pool, GPU allocatable and taints, when serving. */
  readonly nodes?: string;
}

export async function clusterStatus(opts: ClusterOptions = {}): Promise<ClusterStatus> {
  const s = new Session(opts);
  const [exists, serving] = await Promise.all([s.exists(), s.serving()]);
  const base = { name: s.name, exists, serving, kubeconfig: s.paths.kubeconfig };
  if (!serving) return base;
  const gpuColumn = GPU_RESOURCE.replaceAll(".", "\\.");
  const nodes = await s.kubectl([
    "get",
    "nodes",
    "-o",
    `custom-columns=NAME:.metadata.name,STATUS:.status.conditions[?(@.type=="Ready")].status,POOL:.metadata.labels.${NODE_POOL_LABEL.replaceAll(".", "\\.")},CPU:.status.allocatable.cpu,MEMORY:.status.allocatable.memory,GPU:.status.allocatable.${gpuColumn},TAINTS:.spec.taints[*].key`,
  ]);
  return { ...base, nodes };
}
