/**
 * The platform's rendered output: every chart with representative Args, as plain Kubernetes
 * objects. One list, read by the policy test (zero unwaived mandatory findings), by
 * `npm run render` (the manifests the pull-request workflow checks) and by the policy benchmark.
 * A new component adds its samples here.
 */

import { feastPodLabels, resolveFeast } from "./feast/config";
import { renderFeast } from "./feast/feast";
import { mlflowPodLabels, resolveMlflow } from "./mlflow/config";
import { renderMlflow } from "./mlflow/mlflow";
import { resolveObjectStore } from "./object-store/config";
import { objectStoreConnection, renderObjectStore } from "./object-store/object-store";
import { resolvePlatformNamespace } from "./platform-namespace/config";
import { renderPlatformNamespace } from "./platform-namespace/platform-namespace";
import { resolvePostgres } from "./postgres/config";
import { postgresConnection, renderPostgres } from "./postgres/postgres";
import { resolveRedis } from "./redis/config";
import { redisConnection, renderRedis } from "./redis/redis";
import { resolveRuntime } from "./runtime/config";
import { renderRuntime } from "./runtime/runtime";

const consumers = [
  {
    name: "mlflow",
    podLabels: { "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": "mlflow" },
  },
  { name: "feast", podLabels: { "app.kubernetes.io/name": "feast", "app.kubernetes.io/instance": "feast" } },
  {
    name: "runtime",
    podLabels: { "app.kubernetes.io/name": "runtime", "app.kubernetes.io/instance": "runtime" },
  },
];

export interface RenderedSample {
  /** `<component>/<sample>`, used as the file name of the rendered manifests. */
  readonly name: string;
  readonly objects: readonly Record<string, unknown>[];
}

const NS = "mlops-data";
const dataConsumers = [
  { name: "mlflow", podLabels: mlflowPodLabels() },
  { name: "feast", podLabels: feastPodLabels() },
];

/** The four data services wired together through their typed connections, as a stack composes them. */
function dataServices(): RenderedSample[] {
  const pg = resolvePostgres({ namespace: NS, consumers: dataConsumers });
  const store = resolveObjectStore({
    namespace: NS,
    buckets: ["mlflow-artifacts", "feast-offline"],
    consumers: dataConsumers,
  });
  const redis = resolveRedis({ namespace: NS, consumers: [{ name: "feast", podLabels: feastPodLabels() }] });
  const runtime = {
    name: "runtime",
    podLabels: { "app.kubernetes.io/name": "runtime", "app.kubernetes.io/instance": "runtime" },
  };
  const mlflow = resolveMlflow({
    namespace: NS,
    database: postgresConnection(pg, "mlflow"),
    objectStore: objectStoreConnection(store),
    clients: [runtime],
  });
  const feast = resolveFeast({
    namespace: NS,
    registry: postgresConnection(pg, "feast"),
    onlineStore: { type: "redis", redis: redisConnection(redis) },
    offlineStore: { ...objectStoreConnection(store), buckets: ["feast-offline"] },
    clients: [runtime],
  });
  return [
    {
      // One namespace with all four services, as a stack composes them: stack-level rules (default
      // deny, every pod selected by a NetworkPolicy, PDBs) see them together.
      name: "data-services/stack",
      objects: [
        ...renderPlatformNamespace(resolvePlatformNamespace({ name: NS, role: "data" })),
        ...renderPostgres(pg),
        ...renderObjectStore(store),
        ...renderRedis(redis),
        ...renderMlflow(mlflow),
        ...renderFeast(feast),
      ],
    },
    {
      name: "object-store/s3",
      objects: renderObjectStore(
        resolveObjectStore({
          namespace: NS,
          mode: "s3",
          s3: { region: "eu-west-1", roleArn: "arn:aws:iam::123456789012:role/mlops-artifacts" },
          buckets: ["mlflow-artifacts"],
          consumers: dataConsumers,
        }),
      ),
    },
    {
      name: "object-store/external",
      objects: renderObjectStore(
        resolveObjectStore({
          namespace: NS,
          mode: "external",
          external: { endpoint: "https://s3.example.com", credentialsSecretName: "s3-keys" },
          buckets: ["mlflow-artifacts"],
          consumers: dataConsumers,
        }),
      ),
    },
  ];
}

export function platformSamples(): RenderedSample[] {
  return [
    {
      name: "platform-namespace/training",
      objects: renderPlatformNamespace(resolvePlatformNamespace({ name: "training", quota: { gpus: 8 } })),
    },
    {
      name: "platform-namespace/serving",
      objects: renderPlatformNamespace(resolvePlatformNamespace({ name: "serving", role: "serving" })),
    },
    {
      name: "postgres/in-cluster",
      objects: renderPostgres(resolvePostgres({ namespace: "mlops-data", consumers })),
    },
    {
      name: "postgres/external",
      objects: renderPostgres(
        resolvePostgres({
          namespace: "mlops-data",
          mode: "external",
          external: { host: "db.example.internal", adminSecretName: "rds-admin" },
          consumers,
        }),
      ),
    },
    ...dataServices(),
    {
      name: "runtime/production",
      objects: [
        ...renderPlatformNamespace(resolvePlatformNamespace({ name: NS, role: "data" })),
        ...renderPlatformNamespace(resolvePlatformNamespace({ name: "training", quota: { gpus: 8 } })),
        ...renderPlatformNamespace(resolvePlatformNamespace({ name: "serving", role: "serving" })),
        ...renderRuntime(
          resolveRuntime({
            // Beside Postgres: Secrets and NetworkPolicy selectors are namespace-local.
            namespace: NS,
            database: {
              host: "postgres.mlops-data.svc",
              port: 5432,
              database: "runtime",
              username: "runtime",
              sslMode: "disable",
              secretName: "postgres-runtime-credentials",
            },
            jobNamespace: "training",
            servingNamespaces: ["serving"],
            mlflow: {
              trackingUri: "http://mlflow.mlops-data.svc:5000",
              credentialsSecretName: "mlflow-admin",
            },
          }),
        ),
      ],
    },
  ];
}
