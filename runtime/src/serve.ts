import type { Server } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { ensureToken } from "./api/auth";
import { createApiServer } from "./api/server";
import { Engine } from "./engine/engine";
import type { Executor } from "./executors/executor";
import { KubernetesExecutor } from "./executors/kubernetes";
import { LocalExecutor } from "./executors/local";
import { type Db, openPglite, openPostgres } from "./store/db";
import { migrate } from "./store/migrations";
import { Pollers } from "./triggers/pollers";

/**
 * The runtime's settings, read from the environment by the entry point only (library code gets
 * them passed in):
 *
 * | variable | meaning | default |
 * |---|---|---|
 * | MLOPS_DATABASE_URL | Postgres connection string | unset: embedded PGlite in MLOPS_DATA_DIR |
 * | MLOPS_DATA_DIR | PGlite's folder (`memory` for none) | ~/.local/state/mlops-runtime/pglite |
 * | MLOPS_EXECUTOR | `local` or `kubernetes` | local |
 * | MLOPS_WORK_DIR | local executor's attempt folders | ~/.local/state/mlops-runtime/attempts |
 * | MLOPS_JOB_NAMESPACE, MLOPS_JOB_SERVICE_ACCOUNT | where step Jobs run, as whom | (required for kubernetes), default |
 * | MLOPS_GPU_RESOURCE, MLOPS_GPU_NODE_SELECTOR, MLOPS_GPU_TOLERATIONS | GPU placement (JSON for the last two) | nvidia.com/gpu, the platform's GPU label and taint |
 * | MLOPS_LISTEN | host:port of the API | 127.0.0.1:8080 |
 * | MLOPS_ADMIN_TOKEN | registers this token as `admin` (from a Secret) | unset |
 * | MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD | modelVersion triggers | unset |
 * | FEAST_REGISTRY_URL | Feast's SQL registry (Postgres URL) for featureStore triggers | unset |
 * | AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY | objectStore triggers (static keys) | AWS S3, us-east-1 |
 */
export interface RuntimeProcess {
  readonly engine: Engine;
  readonly server: Server;
  readonly url: string;
  readonly db: Db;
  stop(): Promise<void>;
}

/**
 * GPU placement when the environment gives none. The runtime imports nothing of the platform, so
 * these repeat components/shared/gpu.ts; the Runtime component always passes those values, and the
 * cluster tier checks a GPU step lands on a GPU node.
 */
const DEFAULT_GPU = {
  resource: "nvidia.com/gpu",
  nodeSelector: { "nvidia.com/gpu.present": "true" },
  tolerations: [{ key: "nvidia.com/gpu", operator: "Equal", value: "present", effect: "NoSchedule" }],
};

function json<T>(env: NodeJS.ProcessEnv, name: string, fallback: T): T {
  const v = env[name];
  if (!v) return fallback;
  try {
    return JSON.parse(v) as T;
  } catch (err) {
    throw new Error(
      `${name} is not valid JSON (${(err as Error).message}). Fix: give e.g. ${JSON.stringify(fallback)}.`,
    );
  }
}

export async function serve(
  env: NodeJS.ProcessEnv,
  log: (line: string) => void = console.log,
): Promise<RuntimeProcess> {
  const state = path.join(os.homedir(), ".local", "state", "mlops-runtime");
  const db = env.MLOPS_DATABASE_URL
    ? await openPostgres(env.MLOPS_DATABASE_URL)
    : await openPglite(
        env.MLOPS_DATA_DIR === "memory" ? undefined : (env.MLOPS_DATA_DIR ?? path.join(state, "pglite")),
      );
  const applied = await migrate(db);
  log(
    `runtime: database ${db.kind}; migrations applied: ${applied.length ? applied.join(", ") : "none (current)"}`,
  );
  if (env.MLOPS_ADMIN_TOKEN) await ensureToken(db, "admin", "admin", env.MLOPS_ADMIN_TOKEN);

  let executor: Executor;
  const kind = env.MLOPS_EXECUTOR ?? "local";
  if (kind === "kubernetes") {
    const { KubeConfig } = await import("@kubernetes/client-node");
    const kc = new KubeConfig();
    if (env.KUBECONFIG) kc.loadFromFile(env.KUBECONFIG);
    else kc.loadFromCluster();
    if (!env.MLOPS_JOB_NAMESPACE)
      throw new Error("MLOPS_JOB_NAMESPACE is not set. Fix: name the namespace step Jobs run in.");
    executor = new KubernetesExecutor({
      kubeConfig: kc,
      namespace: env.MLOPS_JOB_NAMESPACE,
      serviceAccountName: env.MLOPS_JOB_SERVICE_ACCOUNT ?? "default",
      gpu: {
        resource: env.MLOPS_GPU_RESOURCE ?? DEFAULT_GPU.resource,
        nodeSelector: json(env, "MLOPS_GPU_NODE_SELECTOR", DEFAULT_GPU.nodeSelector),
        tolerations: json(env, "MLOPS_GPU_TOLERATIONS", DEFAULT_GPU.tolerations),
      },
      log,
    });
  } else if (kind === "local")
    executor = new LocalExecutor(env.MLOPS_WORK_DIR ?? path.join(state, "attempts"));
  else throw new Error(`MLOPS_EXECUTOR=${kind} is not an executor. Fix: use local or kubernetes.`);

  const engine = new Engine({ db, executor, identity: `${os.hostname()}:${process.pid}`, log });
  const feast = env.FEAST_REGISTRY_URL ? await openPostgres(env.FEAST_REGISTRY_URL) : undefined;
  const pollers = new Pollers({
    db,
    engine,
    log,
    ...(env.MLFLOW_TRACKING_URI
      ? {
          mlflow: {
            trackingUri: env.MLFLOW_TRACKING_URI,
            username: env.MLFLOW_TRACKING_USERNAME,
            password: env.MLFLOW_TRACKING_PASSWORD,
          },
        }
      : {}),
    ...(feast ? { feastRegistry: feast } : {}),
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          objectStore: {
            endpoint: env.AWS_ENDPOINT_URL ?? `https://s3.${env.AWS_REGION ?? "us-east-1"}.amazonaws.com`,
            region: env.AWS_REGION ?? "us-east-1",
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  });
  const pollTimer = setInterval(() => {
    if (engine.isLeader)
      pollers
        .pollAll()
        .catch((err) => log(`runtime: triggers: ${err instanceof Error ? err.message : String(err)}`));
  }, 5000);
  engine.start();

  const server = createApiServer({ db, engine, secret: (name) => env[name], log });
  const listen = env.MLOPS_LISTEN ?? "127.0.0.1:8080";
  const idx = listen.lastIndexOf(":");
  const host = listen.slice(0, idx);
  const port = Number(listen.slice(idx + 1));
  if (!host || !Number.isInteger(port))
    throw new Error(`MLOPS_LISTEN=${listen} is not host:port. Fix: e.g. 0.0.0.0:8080.`);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const addr = server.address() as { port: number };
  const url = `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${addr.port}`;
  log(`runtime: API on ${url} (executor ${executor.kind})`);
  return {
    engine,
    server,
    url,
    db,
    async stop() {
      clearInterval(pollTimer);
      await new Promise((r) => server.close(r));
      await engine.stop();
      await executor.close();
      await feast?.close();
      await db.close();
    },
  };
}
