import * as k8s from "@kubernetes/client-node";
import { type AttemptStatus, type Executor, type StepLaunch, stepEnvironment } from "./executor";

/** Where GPU steps go: the node pools' taint and label (the Runtime component passes the platform's own). */
export interface GpuPlacement {
  readonly resource: string;
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations: readonly k8s.V1Toleration[];
}

export interface KubernetesExecutorOptions {
  readonly kubeConfig: k8s.KubeConfig;
  /** Namespace of the step Jobs (a PlatformNamespace with GPU quota for GPU steps). */
  readonly namespace: string;
  /** ServiceAccount the step pods run as. @default "default" */
  readonly serviceAccountName?: string;
  readonly gpu: GpuPlacement;
  /** Seconds a finished Job stays for its logs to be read. @default 3600 */
  readonly ttlSecondsAfterFinished?: number;
  readonly log?: (line: string) => void;
}

const MANAGED = "mlops-platform.io/managed-by";
const ATTEMPT = "mlops-platform.io/attempt";

/** The Job of one step attempt (exported for tests and for `kubectl`-minded readers). */
export function stepJob(
  launch: StepLaunch,
  opts: Pick<
    KubernetesExecutorOptions,
    "namespace" | "serviceAccountName" | "gpu" | "ttlSecondsAfterFinished"
  >,
): k8s.V1Job {
  const c = launch.container;
  const gpus = c.resources.gpu;
  const labels = {
    [MANAGED]: "runtime",
    [ATTEMPT]: launch.name,
    "mlops-platform.io/pipeline": launch.pipeline,
    "mlops-platform.io/run": launch.runId,
    "mlops-platform.io/step": launch.step,
  };
  const requests: Record<string, string> = {
    ...(c.resources.cpu ? { cpu: c.resources.cpu } : {}),
    ...(c.resources.memory ? { memory: c.resources.memory } : {}),
  };
  const limits: Record<string, string> = { ...(c.resources.memory ? { memory: c.resources.memory } : {}) };
  if (gpus > 0) {
    requests[opts.gpu.resource] = String(gpus);
    limits[opts.gpu.resource] = String(gpus);
  }
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: launch.name, namespace: opts.namespace, labels },
    spec: {
      backoffLimit: 0, // retries are the engine's, with their own attempt names
      activeDeadlineSeconds: launch.timeoutSeconds,
      ttlSecondsAfterFinished: opts.ttlSecondsAfterFinished ?? 3600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          serviceAccountName: opts.serviceAccountName ?? "default",
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: "RuntimeDefault" },
          },
          ...(gpus > 0
            ? { nodeSelector: { ...opts.gpu.nodeSelector }, tolerations: [...opts.gpu.tolerations] }
            : {}),
          containers: [
            {
              name: "step",
              image: c.image,
              command: [...c.command],
              args: [...c.args],
              env: Object.entries(stepEnvironment(launch)).map(([name, value]) => ({ name, value })),
              resources: { requests, limits },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: { sizeLimit: "10Gi" } }],
        },
      },
    },
  };
}

const isStatus = (err: unknown, code: number) => err instanceof k8s.ApiException && err.code === code;

/**
 * One batch/v1 Job per step attempt, named after the attempt: creating a Job that exists answers
 * 409 and the engine adopts it, so a restarted runtime never makes a second. A watch on the
 * runtime's Jobs wakes the engine as soon as one finishes.
 */
export class KubernetesExecutor implements Executor {
  readonly kind = "kubernetes" as const;
  readonly #batch: k8s.BatchV1Api;
  readonly #core: k8s.CoreV1Api;
  readonly #listeners: (() => void)[] = [];
  #watch: { abort(): void } | undefined;
  #closed = false;

  constructor(private readonly opts: KubernetesExecutorOptions) {
    this.#batch = opts.kubeConfig.makeApiClient(k8s.BatchV1Api);
    this.#core = opts.kubeConfig.makeApiClient(k8s.CoreV1Api);
    void this.#startWatch();
  }

  async #startWatch(): Promise<void> {
    if (this.#closed) return;
    try {
      const watch = new k8s.Watch(this.opts.kubeConfig);
      this.#watch = await watch.watch(
        `/apis/batch/v1/namespaces/${this.opts.namespace}/jobs`,
        { labelSelector: `${MANAGED}=runtime` },
        () => this.#notify(),
        (err) => {
          if (err && !this.#closed)
            this.opts.log?.(
              `kubernetes executor: job watch ended: ${err instanceof Error ? err.message : String(err)}; restarting`,
            );
          if (!this.#closed) setTimeout(() => void this.#startWatch(), 1000).unref();
        },
      );
    } catch (err) {
      this.opts.log?.(
        `kubernetes executor: cannot watch Jobs: ${err instanceof Error ? err.message : String(err)}; retrying`,
      );
      if (!this.#closed) setTimeout(() => void this.#startWatch(), 2000).unref();
    }
  }

  #notify(): void {
    for (const cb of this.#listeners) cb();
  }

  async start(launch: StepLaunch): Promise<"started" | "adopted"> {
    try {
      await this.#batch.createNamespacedJob({
        namespace: this.opts.namespace,
        body: stepJob(launch, this.opts),
      });
      return "started";
    } catch (err) {
      if (isStatus(err, 409)) return "adopted";
      throw new Error(
        `creating Job ${launch.name} in ${this.opts.namespace}: ${err instanceof k8s.ApiException ? `${err.code} ${String(err.body).slice(0, 300)}` : String(err)}`,
      );
    }
  }

  async status(name: string): Promise<AttemptStatus> {
    let job: k8s.V1Job;
    try {
      job = await this.#batch.readNamespacedJob({ name, namespace: this.opts.namespace });
    } catch (err) {
      if (isStatus(err, 404)) return { state: "missing" };
      throw err;
    }
    const cond = (t: string) => job.status?.conditions?.find((c) => c.type === t && c.status === "True");
    if (cond("Complete")) return { state: "succeeded" };
    const failed = cond("Failed");
    if (failed)
      return {
        state: "failed",
        message: `${failed.reason ?? "failed"}: ${failed.message ?? "the Job failed"}`,
      };
    return { state: "running" };
  }

  async stop(name: string): Promise<void> {
    try {
      await this.#batch.deleteNamespacedJob({
        name,
        namespace: this.opts.namespace,
        propagationPolicy: "Background",
      });
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  async logs(name: string): Promise<string> {
    const pods = await this.#core.listNamespacedPod({
      namespace: this.opts.namespace,
      labelSelector: `job-name=${name}`,
    });
    const out: string[] = [];
    for (const p of pods.items) {
      try {
        out.push(
          await this.#core.readNamespacedPodLog({
            name: p.metadata?.name ?? "",
            namespace: this.opts.namespace,
            container: "step",
          }),
        );
      } catch (err) {
        out.push(
          `(no logs from pod ${p.metadata?.name}: ${err instanceof k8s.ApiException ? err.code : String(err)})\n`,
        );
      }
    }
    return out.join("");
  }

  onChange(cb: () => void): void {
    this.#listeners.push(cb);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watch?.abort();
  }
}
