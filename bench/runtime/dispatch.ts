/**
 * Dispatch overhead on the local cluster: the time from a step's Job completing to the next step's
 * Job being created, for the runtime (its Kubernetes executor, woken by a Job watch) and, side by
 * side in the same run, for the simplest peer there is: a script chaining `kubectl create` and
 * `kubectl wait --for=condition=complete` (what a pipeline without an engine does). Both create
 * the same Jobs; one watch of this process timestamps every Job's creation and completion, so both
 * are measured by the same clock. Rounds alternate between the two. Not a test; prints figures.
 *
 *   npm run toolchain && npm run bench:runtime-dispatch [-- --steps 10 --rounds 4]
 *
 * (Argo Workflows' ~10 s per step, the figure users complain about, cannot run here as a peer: it is
 * not buildable from the Go module proxy within this machine's limits; see the README.)
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as kube from "@kubernetes/client-node";
import { GPU_RESOURCE, gpuNodeSelector, gpuToleration } from "../../components/shared";
import { Engine } from "../../runtime/src/engine/engine";
import { KubernetesExecutor, stepJob } from "../../runtime/src/executors/kubernetes";
import { parsePipelineObject } from "../../runtime/src/spec";
import { openPglite } from "../../runtime/src/store/db";
import { migrate } from "../../runtime/src/store/migrations";
import { clusterDown, clusterUp } from "../../scripts/lib/local-cluster";
import { toolchain } from "../../scripts/lib/toolchain";

const { values } = parseArgs({
  options: {
    steps: { type: "string", default: "10" },
    rounds: { type: "string", default: "4" },
    keep: { type: "boolean", default: false },
  },
});
const STEPS = Number(values.steps);
const ROUNDS = Number(values.rounds);
const NS = "bench-dispatch";
const CLUSTER = "mlops-bench";
const GPU = { resource: GPU_RESOURCE, nodeSelector: gpuNodeSelector(), tolerations: [gpuToleration()] };
const container = {
  image: "registry.k8s.io/pause:3.10",
  command: ["/pause"],
  args: [],
  env: {},
  resources: { cpu: "100m", memory: "64Mi", gpu: 0 },
};

/** Runs a command without blocking the event loop (the watch must timestamp events as they come). */
function run(cmd: string, args: string[], input?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ["pipe", "ignore", "pipe"] });
    let err = "";
    p.stderr.on("data", (b: Buffer) => {
      err += b.toString();
    });
    p.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} ${args.join(" ")}: ${err}`)),
    );
    p.stdin.end(input ?? "");
  });
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
};

async function main() {
  const paths = await clusterUp({ name: CLUSTER, log: (l) => console.log(l) });
  const kc = new kube.KubeConfig();
  kc.loadFromFile(paths.kubeconfig);
  const core = kc.makeApiClient(kube.CoreV1Api);
  await core
    .createNamespace({
      body: { metadata: { name: NS, labels: { "pod-security.kubernetes.io/enforce": "restricted" } } },
    })
    .catch((err) => {
      if (!(err instanceof kube.ApiException && err.code === 409)) throw err;
    });
  await core
    .createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: "default-steps" } } })
    .catch(() => undefined);

  // One watch timestamps every Job: created (ADDED) and completed (Complete condition first seen).
  const added = new Map<string, number>();
  const completed = new Map<string, number>();
  const watch = await new kube.Watch(kc).watch(
    `/apis/batch/v1/namespaces/${NS}/jobs`,
    {},
    (type, job: kube.V1Job) => {
      const name = job.metadata?.name as string;
      if (type === "ADDED" && !added.has(name)) added.set(name, performance.now());
      if (
        !completed.has(name) &&
        job.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True")
      )
        completed.set(name, performance.now());
    },
    () => undefined,
  );
  const gaps = (names: string[]) =>
    names
      .slice(1)
      .map((n, i) => (added.get(n) ?? Number.NaN) - (completed.get(names[i] as string) ?? Number.NaN));
  const until = async (what: string, ok: () => boolean, ms = 120_000) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const db = await openPglite();
  await migrate(db);
  const executor = new KubernetesExecutor({
    kubeConfig: kc,
    namespace: NS,
    serviceAccountName: "default-steps",
    gpu: GPU,
  });
  const engine = new Engine({ db, executor, idleTickMs: 1000 });
  engine.start();
  const steps = Array.from({ length: STEPS }, (_, i) => ({
    name: `s${i}`,
    ...container,
    dependsOn: i > 0 ? [`s${i - 1}`] : [],
  }));
  await engine.applyPipeline(
    parsePipelineObject({
      apiVersion: "mlops-platform.io/v1",
      kind: "Pipeline",
      metadata: { name: "chain" },
      spec: { steps },
    }),
    "bench",
  );

  const kubectl = path.join(toolchain().binDirs.kubernetes, "kubectl");
  const ours: number[] = [];
  const peer: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ["runtime", "kubectl"] : ["kubectl", "runtime"];
    for (const who of order) {
      if (who === "runtime") {
        const { runId } = await engine.trigger("chain", {
          dedupeKey: `bench-${round}`,
          source: "manual",
          actor: "bench",
        });
        const names = steps.map((s) => `chain-${runId}-${s.name}-1`);
        await until(`runtime round ${round}`, () => completed.has(names.at(-1) as string));
        ours.push(...gaps(names));
      } else {
        const names = steps.map((s) => `peer-r${round}-${s.name}`);
        for (const name of names) {
          const job = stepJob(
            {
              name,
              pipeline: "peer",
              runId: `r${round}`,
              step: name,
              attempt: 1,
              container,
              params: {},
              timeoutSeconds: 600,
            },
            { namespace: NS, serviceAccountName: "default-steps", gpu: GPU },
          );
          await run(kubectl, ["--kubeconfig", paths.kubeconfig, "create", "-f", "-"], JSON.stringify(job));
          await run(kubectl, [
            "--kubeconfig",
            paths.kubeconfig,
            "-n",
            NS,
            "wait",
            "--for=condition=complete",
            `job/${name}`,
            "--timeout=120s",
          ]);
        }
        await until(`peer round ${round}`, () => completed.has(names.at(-1) as string));
        peer.push(...gaps(names));
      }
      console.log(`  round ${round + 1}/${ROUNDS} ${who}: done`);
    }
  }
  await engine.stop();
  await executor.close();
  watch.abort();
  await db.close();
  if (!values.keep) await clusterDown({ name: CLUSTER, log: (l) => console.log(l) });

  const row = (label: string, xs: number[], base: number[]) =>
    `| ${label} | ${xs.length} | ${pct(xs, 50).toFixed(0)} | ${pct(xs, 95).toFixed(0)} | ${Math.max(...xs).toFixed(0)} | ${(pct(xs, 50) / pct(base, 50)).toFixed(2)}x |`;
  console.log(
    `\ndispatch overhead: Job complete -> next Job created, ${STEPS}-step chains, ${ROUNDS} rounds each, KWOK cluster, 2 cores`,
  );
  console.log("| engine | gaps | p50 (ms) | p95 (ms) | max (ms) | p50 vs kubectl chain |");
  console.log("|---|---|---|---|---|---|");
  console.log(row("mlops runtime", ours, peer));
  console.log(row("kubectl create + wait chain", peer, peer));
  console.log(
    `runtime's own dispatch histogram: count ${(await engine.metrics.dispatchLatency.get()).values.find((v) => v.metricName?.endsWith("_count"))?.value}`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
