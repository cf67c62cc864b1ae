import {
  type ContainerResources,
  check,
  type ObjectStoreConnection,
  type PodLabels,
  type PostgresConnection,
  Problems,
} from "../shared";

/** Pods allowed to call the tracking server (e.g. the runtime, training Jobs, notebooks). */
export interface MlflowClient {
  /** A DNS-1123 label naming the client. */
  readonly name: string;
  /** Labels of the client's pods in the same namespace. */
  readonly podLabels: PodLabels;
}

export type MlflowPermission = "READ" | "EDIT" | "MANAGE" | "NO_PERMISSIONS";

export interface MlflowArgs {
  /** Namespace for every object (the one Postgres and the ObjectStore admit MLflow's pods in). */
  readonly namespace: string;
  /** Name of the Deployment, Service and Secrets. @default "mlflow" */
  readonly name?: string;
  /** The backend store: a Postgres consumer connection (e.g. `postgres.connection("mlflow")`). */
  readonly database: PostgresConnection;
  /** Where artifacts go; the server proxies them, so clients need no bucket credentials. */
  readonly objectStore: ObjectStoreConnection;
  /** Bucket for artifacts; one of `objectStore.buckets`. @default - the first bucket */
  readonly artifactBucket?: string;
  /** Key prefix in the bucket. @default "mlflow" */
  readonly artifactPrefix?: string;
  /** `local` allows one replica; `production` requires two or more. @default "production" */
  readonly profile?: "local" | "production";
  /** Server replicas. @default - 2 in `production`, 1 in `local` */
  readonly replicas?: number;
  /** Server worker processes per replica. @default 2 */
  readonly workers?: number;
  /**
   * Server image: MLflow with psycopg 3, boto3, Flask-WTF and prometheus-flask-exporter (the
   * upstream image has none of them); build it from images/mlflow.
   * @default "ghcr.io/mlops-platform/mlflow:3.17.2"
   */
  readonly image?: string;
  /** Extra `Host` headers the server accepts (your Ingress host names); in-cluster names are always allowed. @default [] */
  readonly allowedHosts?: readonly string[];
  /**
   * Basic authentication (on unless `false`): a generated admin credential in the Secret
   * `<name>-admin`, and the permission users get on resources they were not granted.
   * @default { defaultPermission: "NO_PERMISSIONS" }
   */
  readonly auth?: false | { readonly defaultPermission?: MlflowPermission };
  /** Pods admitted to the server port besides none. @default [] */
  readonly clients?: readonly MlflowClient[];
  /** @default { requestCpu: "250m", requestMemory: "768Mi", limitMemory: "2Gi" } */
  readonly resources?: Partial<ContainerResources>;
}

export interface MlflowConfig {
  readonly namespace: string;
  readonly name: string;
  readonly database: PostgresConnection;
  readonly objectStore: ObjectStoreConnection;
  readonly artifactsDestination: string;
  readonly replicas: number;
  readonly workers: number;
  readonly image: string;
  readonly allowedHosts: readonly string[];
  readonly auth: false | { readonly defaultPermission: MlflowPermission };
  readonly clients: readonly MlflowClient[];
  readonly resources: ContainerResources;
  /** Secret with the admin credential and the Flask secret key (auth on). */
  readonly authSecretName: string;
}

export const mlflowDefaults = {
  name: "mlflow",
  image: "ghcr.io/mlops-platform/mlflow:3.17.2",
  artifactPrefix: "mlflow",
  workers: 2,
  defaultPermission: "NO_PERMISSIONS",
  resources: { requestCpu: "250m", requestMemory: "768Mi", limitMemory: "2Gi" },
} as const;

export const MLFLOW_PORT = 5000;

const HOST = /^(\*\.)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:(\d+|\*))?$/;

/** Labels of every MLflow pod (server and migration Job): what Postgres and the ObjectStore admit. */
export function mlflowPodLabels(name: string = mlflowDefaults.name): Record<string, string> {
  return { "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": name };
}

/** Validates Args and applies defaults; every problem with its path, nothing created on error. */
export function resolveMlflow(args: MlflowArgs, component = "Mlflow"): MlflowConfig {
  const p = new Problems();
  p.dnsLabel("namespace", args?.namespace);
  const name = args?.name ?? mlflowDefaults.name;
  p.dnsLabel("name", name);
  const replicas = check.replicas(p, args?.profile ?? "production", args?.replicas, 20);
  p.integer("workers", args?.workers, 1, 32);

  const db = args?.database;
  if (!db || typeof db !== "object")
    p.add(
      "database",
      db,
      "is required.",
      'pass a Postgres consumer connection, e.g. postgres.connection("mlflow").',
    );
  else p.dnsLabel("database.secretName", db.secretName);

  const os = args?.objectStore;
  const bucket = args?.artifactBucket ?? os?.buckets?.[0];
  if (!os || typeof os !== "object" || !Array.isArray(os.buckets))
    p.add("objectStore", os, "is required.", "pass an ObjectStore's connection (objectStore.connection).");
  else if (typeof bucket !== "string" || !os.buckets.includes(bucket))
    p.add(
      "artifactBucket",
      bucket,
      `is not one of the object store's buckets (${os.buckets.join(", ") || "none"}).`,
      "add it to the ObjectStore's buckets, or pick one of those.",
    );
  const prefix = args?.artifactPrefix ?? mlflowDefaults.artifactPrefix;
  if (typeof prefix !== "string" || !/^[a-zA-Z0-9][a-zA-Z0-9._/-]*$/.test(prefix) || prefix.endsWith("/"))
    p.add(
      "artifactPrefix",
      prefix,
      "is not a key prefix.",
      'use letters, digits, ".", "_", "-" and "/", e.g. "mlflow".',
    );
  check.image(p, "image", args?.image);
  (args?.allowedHosts ?? []).forEach((h, i) => {
    if (typeof h !== "string" || !HOST.test(h))
      p.add(
        `allowedHosts[${i}]`,
        h,
        "is not a host name.",
        'use e.g. "mlflow.example.com" or "*.example.com".',
      );
  });
  const auth = args?.auth;
  if (auth !== undefined && auth !== false) {
    if (typeof auth !== "object")
      p.add("auth", auth, "must be an object or false.", "leave it out for the default.");
    else
      p.oneOf("auth.defaultPermission", auth.defaultPermission, [
        "READ",
        "EDIT",
        "MANAGE",
        "NO_PERMISSIONS",
      ] as const);
  }
  const clients = args?.clients ?? [];
  check.podsRefs(p, "clients", clients, { min: 0, example: '{ name: "runtime", podLabels: { ... } }' });
  const resources = { ...mlflowDefaults.resources, ...(args?.resources ?? {}) };
  check.resources(p, "resources", resources);
  p.throwIfAny(component);

  const service = `${name}.${args.namespace}`;
  const inCluster = [name, service, `${service}.svc`, `${service}.svc.cluster.local`];
  return {
    namespace: args.namespace,
    name,
    database: db,
    objectStore: os,
    artifactsDestination: `s3://${bucket}/${prefix}`,
    replicas,
    workers: args.workers ?? mlflowDefaults.workers,
    image: args.image ?? mlflowDefaults.image,
    allowedHosts: [...inCluster.flatMap((h) => [h, `${h}:*`]), ...(args.allowedHosts ?? [])],
    auth:
      auth === false
        ? false
        : { defaultPermission: auth?.defaultPermission ?? mlflowDefaults.defaultPermission },
    clients: [...clients],
    resources,
    authSecretName: `${name}-admin`,
  };
}
