import {
  type ContainerResources,
  check,
  type ObjectStoreConnection,
  type PodLabels,
  type PostgresConnection,
  Problems,
  type RedisConnection,
} from "../shared";

/** Pods allowed to call the feature server (e.g. model servers, the runtime). */
export interface FeastClient {
  readonly name: string;
  readonly podLabels: PodLabels;
}

/** Online store: Redis (low latency, the default) or Postgres (one fewer server to run). */
export type FeastOnlineStore =
  | { readonly type: "redis"; readonly redis: RedisConnection }
  | { readonly type: "postgres"; readonly database: PostgresConnection };

export interface FeastArgs {
  /** Namespace for every object (the one Postgres, Redis and the ObjectStore admit Feast's pods in). */
  readonly namespace: string;
  /** Name of the Deployment, Service, ConfigMap and CronJob. @default "feast" */
  readonly name?: string;
  /** Feast project name (letters, digits and `_`). @default "mlops" */
  readonly project?: string;
  /** The SQL registry: a Postgres consumer connection (e.g. `postgres.connection("feast")`). */
  readonly registry: PostgresConnection;
  readonly onlineStore: FeastOnlineStore;
  /** The offline store's object store (the data sources' parquet files live there). */
  readonly offlineStore: ObjectStoreConnection;
  /** `local` allows one replica; `production` requires two or more. @default "production" */
  readonly profile?: "local" | "production";
  /** Feature server replicas. @default - 2 in `production`, 1 in `local` */
  readonly replicas?: number;
  /** Feature server worker processes per replica. @default 2 */
  readonly workers?: number;
  /**
   * Image with Feast, psycopg, redis and s3fs (build it from images/feast; the upstream
   * feature-server image is not tested with this configuration).
   * @default "ghcr.io/mlops-platform/feast:0.67.0"
   */
  readonly image?: string;
  /** How long the feature server caches the registry, in seconds. @default 60 */
  readonly registryCacheTtlSeconds?: number;
  /**
   * The materialisation CronJob (`feast materialize-incremental` up to now), or `false` for none.
   * @default { schedule: "0 * * * *" }
   */
  readonly materialize?: false | { readonly schedule?: string };
  /** Pods admitted to the feature server. @default [] */
  readonly clients?: readonly FeastClient[];
  /** @default { requestCpu: "250m", requestMemory: "512Mi", limitMemory: "2Gi" } */
  readonly resources?: Partial<ContainerResources>;
}

export interface FeastConfig {
  readonly namespace: string;
  readonly name: string;
  readonly project: string;
  readonly registry: PostgresConnection;
  readonly onlineStore: FeastOnlineStore;
  readonly offlineStore: ObjectStoreConnection;
  readonly replicas: number;
  readonly workers: number;
  readonly image: string;
  readonly registryCacheTtlSeconds: number;
  readonly materialize: false | { readonly schedule: string };
  readonly clients: readonly FeastClient[];
  readonly resources: ContainerResources;
}

export const feastDefaults = {
  name: "feast",
  project: "mlops",
  image: "ghcr.io/mlops-platform/feast:0.67.0",
  workers: 2,
  registryCacheTtlSeconds: 60,
  schedule: "0 * * * *",
  resources: { requestCpu: "250m", requestMemory: "512Mi", limitMemory: "2Gi" },
} as const;

export const FEAST_PORT = 6566;
export const FEAST_METRICS_PORT = 8000;
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;

/** Labels of every Feast pod (server and materialisation): what Postgres, Redis and the ObjectStore admit. */
export function feastPodLabels(name: string = feastDefaults.name): Record<string, string> {
  return { "app.kubernetes.io/name": "feast", "app.kubernetes.io/instance": name };
}

/** Validates Args and applies defaults; every problem with its path, nothing created on error. */
export function resolveFeast(args: FeastArgs, component = "Feast"): FeastConfig {
  const p = new Problems();
  p.dnsLabel("namespace", args?.namespace);
  const name = args?.name ?? feastDefaults.name;
  p.dnsLabel("name", name);
  const project = args?.project ?? feastDefaults.project;
  if (typeof project !== "string" || !/^[A-Za-z0-9_]+$/.test(project))
    p.add("project", project, "must be letters, digits and '_' only (Feast's rule).", 'use e.g. "mlops".');
  const replicas = check.replicas(p, args?.profile ?? "production", args?.replicas, 50);
  p.integer("workers", args?.workers, 1, 32);
  p.integer("registryCacheTtlSeconds", args?.registryCacheTtlSeconds, 0, 86400);
  if (!args?.registry || typeof args.registry !== "object")
    p.add(
      "registry",
      args?.registry,
      "is required.",
      'pass a Postgres consumer connection, e.g. postgres.connection("feast").',
    );
  else p.dnsLabel("registry.secretName", args.registry.secretName);
  const online = args?.onlineStore as FeastOnlineStore | undefined;
  if (!online || typeof online !== "object")
    p.add(
      "onlineStore",
      online,
      "is required.",
      'pass { type: "redis", redis: redis.plainConnection } or { type: "postgres", database: ... }.',
    );
  else if (online.type === "redis") {
    if (!online.redis)
      p.add("onlineStore.redis", online.redis, 'is required with type "redis".', "pass a Redis connection.");
    else p.dnsLabel("onlineStore.redis.secretName", online.redis.secretName);
  } else if (online.type === "postgres") {
    if (!online.database)
      p.add(
        "onlineStore.database",
        online.database,
        'is required with type "postgres".',
        "pass a Postgres consumer connection.",
      );
    else p.dnsLabel("onlineStore.database.secretName", online.database.secretName);
  } else p.oneOf("onlineStore.type", (online as { type?: unknown }).type, ["redis", "postgres"] as const);
  if (!args?.offlineStore || typeof args.offlineStore !== "object")
    p.add("offlineStore", args?.offlineStore, "is required.", "pass an ObjectStore's connection.");
  check.image(p, "image", args?.image);
  const m = args?.materialize;
  const schedule = m === false ? undefined : (m?.schedule ?? feastDefaults.schedule);
  if (schedule !== undefined) {
    const fields = typeof schedule === "string" ? schedule.trim().split(/\s+/) : [];
    if (fields.length !== 5 || !fields.every((f) => CRON_FIELD.test(f)))
      p.add(
        "materialize.schedule",
        schedule,
        "is not a 5-field cron schedule.",
        'write it like "0 * * * *" (hourly).',
      );
  }
  const clients = args?.clients ?? [];
  check.podsRefs(p, "clients", clients, { min: 0, example: '{ name: "model-server", podLabels: { ... } }' });
  const resources = { ...feastDefaults.resources, ...(args?.resources ?? {}) };
  check.resources(p, "resources", resources);
  p.throwIfAny(component);
  return {
    namespace: args.namespace,
    name,
    project,
    registry: args.registry,
    onlineStore: online as FeastOnlineStore,
    offlineStore: args.offlineStore,
    replicas,
    workers: args.workers ?? feastDefaults.workers,
    image: args.image ?? feastDefaults.image,
    registryCacheTtlSeconds: args.registryCacheTtlSeconds ?? feastDefaults.registryCacheTtlSeconds,
    materialize: schedule === undefined ? false : { schedule },
    clients: [...clients],
    resources,
  };
}
