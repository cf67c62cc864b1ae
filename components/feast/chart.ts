import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import { stringify } from "yaml";
import {
  addDisruptionBudget,
  containerResources,
  ingressPolicySpec,
  objectAdder,
  objectStoreEnv,
  postgresEnv,
  RESTRICTED_CONTAINER_SECURITY,
  recommendedLabels,
  restrictedPodSecurity,
  scratchVolume,
  secretEnv,
  selectorLabels,
  spreadOverNodes,
} from "../shared";
import { FEAST_METRICS_PORT, FEAST_PORT, type FeastConfig } from "./config";

const UID = 10001;
const CONFIG_DIR = "/etc/feast";

/** `${VAR}` references Feast expands when it reads feature_store.yaml (os.path.expandvars). */
const v = (name: string) => `\${${name}}`;

/**
 * The `feature_store.yaml` Feast reads: SQL registry in Postgres, the online store, the dask
 * (file) offline store over the object store. Every credential is a `${VAR}` reference to the
 * environment, which comes from Secrets; the file itself holds none and lives in a ConfigMap.
 */
export function featureStoreYaml(config: FeastConfig): string {
  const r = config.registry;
  const online =
    config.onlineStore.type === "redis"
      ? {
          type: "redis",
          connection_string: `${v("FEAST_REDIS_HOST")}:${v("FEAST_REDIS_PORT")},password=${v("FEAST_REDIS_PASSWORD")}`,
        }
      : {
          type: "postgres",
          host: v("FEAST_ONLINE_HOST"),
          port: v("FEAST_ONLINE_PORT"),
          database: v("FEAST_ONLINE_DATABASE"),
          user: v("FEAST_ONLINE_USERNAME"),
          password: v("FEAST_ONLINE_PASSWORD"),
          sslmode: config.onlineStore.database.sslMode,
        };
  return stringify({
    project: config.project,
    provider: "local",
    registry: {
      registry_type: "sql",
      path: `postgresql+psycopg://${v("FEAST_REGISTRY_USERNAME")}:${v("FEAST_REGISTRY_PASSWORD")}@${v("FEAST_REGISTRY_HOST")}:${v("FEAST_REGISTRY_PORT")}/${v("FEAST_REGISTRY_DATABASE")}?sslmode=${r.sslMode}`,
      cache_ttl_seconds: config.registryCacheTtlSeconds,
      sqlalchemy_config_kwargs: { pool_pre_ping: true },
    },
    online_store: online,
    offline_store: { type: "dask" },
    entity_key_serialization_version: 3,
  });
}

/** The environment every Feast container gets: the Secrets feature_store.yaml refers to, and the object store. */
export function feastEnv(config: FeastConfig) {
  const online = config.onlineStore;
  return [
    { name: "FEAST_FS_YAML_FILE_PATH", value: `${CONFIG_DIR}/feature_store.yaml` },
    ...postgresEnv("FEAST_REGISTRY", config.registry),
    ...(online.type === "redis"
      ? [
          secretEnv("FEAST_REDIS_HOST", online.redis.secretName, "host"),
          secretEnv("FEAST_REDIS_PORT", online.redis.secretName, "port"),
          secretEnv("FEAST_REDIS_PASSWORD", online.redis.secretName, "password"),
        ]
      : postgresEnv("FEAST_ONLINE", online.database)),
    ...objectStoreEnv(config.offlineStore),
    { name: "FEAST_USAGE", value: "False" },
    { name: "HOME", value: "/tmp" },
  ];
}

/** The feature server's command line. */
export function feastServeCommand(config: FeastConfig): string[] {
  return [
    "feast",
    "serve",
    "--host",
    "0.0.0.0",
    "--port",
    String(FEAST_PORT),
    "--workers",
    String(config.workers),
    "--registry_ttl_sec",
    String(config.registryCacheTtlSeconds),
    "--no-access-log",
    "--metrics",
  ];
}

/** Materialises every feature view up to now (incrementally: from where the last run stopped). */
export const MATERIALIZE_SCRIPT =
  'set -eu\nexec feast materialize-incremental "$(date -u +%Y-%m-%dT%H:%M:%S)"';

export function feastObjectNames(config: Pick<FeastConfig, "name">) {
  return {
    configMap: `${config.name}-feature-store`,
    deployment: config.name,
    service: config.name,
    serviceAccount: config.name,
    cronJob: `${config.name}-materialize`,
    pdb: config.name,
  };
}

/**
 * Feast: the feature server (Deployment, Service, PDB when replicated, metrics on 8000), a
 * materialisation CronJob, and `feature_store.yaml` in a ConfigMap. Registry, online store and
 * offline store are the components passed in; their NetworkPolicies admit Feast's pods.
 */
export class FeastChart extends Chart {
  constructor(scope: Construct, id: string, config: FeastConfig) {
    super(scope, id, { disableResourceNameHashes: true });
    const names = feastObjectNames(config);
    const labels = (component: string) =>
      recommendedLabels({ name: "feast", instance: config.name, component });
    const obj = objectAdder(this, config.namespace, "feast", config.name);
    const serverSelector = selectorLabels("feast", config.name, "feature-server");
    // Workload identity for the object store (IRSA in mode `s3`) goes on the ServiceAccount.
    obj(
      "sa",
      "v1",
      "ServiceAccount",
      names.serviceAccount,
      "feature-server",
      { automountServiceAccountToken: false },
      config.offlineStore.serviceAccountAnnotations,
    );
    obj("cm", "v1", "ConfigMap", names.configMap, "config", {
      data: { "feature_store.yaml": featureStoreYaml(config) },
    });
    const podSpec = (containers: object[], restartPolicy?: string) => ({
      ...(restartPolicy ? { restartPolicy } : {}),
      serviceAccountName: names.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurity(UID),
      containers: containers.map((c) => ({
        image: config.image,
        workingDir: "/tmp",
        env: feastEnv(config),
        securityContext: RESTRICTED_CONTAINER_SECURITY,
        volumeMounts: [
          { name: "config", mountPath: CONFIG_DIR, readOnly: true },
          { name: "tmp", mountPath: "/tmp" },
        ],
        ...c,
      })),
      volumes: [{ name: "config", configMap: { name: names.configMap } }, scratchVolume("tmp", "1Gi")],
    });
    obj("svc", "v1", "Service", names.service, "feature-server", {
      spec: {
        type: "ClusterIP",
        selector: serverSelector,
        ports: [{ name: "http", port: FEAST_PORT, targetPort: "http" }],
      },
    });
    const probe = { httpGet: { path: "/health", port: "http" } };
    obj("deploy", "apps/v1", "Deployment", names.deployment, "feature-server", {
      spec: {
        replicas: config.replicas,
        selector: { matchLabels: serverSelector },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: {
            labels: labels("feature-server"),
            annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(FEAST_METRICS_PORT) },
          },
          spec: {
            ...podSpec([
              {
                name: "feature-server",
                command: feastServeCommand(config),
                ports: [
                  { name: "http", containerPort: FEAST_PORT },
                  { name: "metrics", containerPort: FEAST_METRICS_PORT },
                ],
                resources: containerResources(config.resources, { request: "256Mi", limit: "1Gi" }),
                startupProbe: { ...probe, periodSeconds: 5, failureThreshold: 60 },
                readinessProbe: { ...probe, periodSeconds: 10 },
                livenessProbe: { ...probe, periodSeconds: 20, timeoutSeconds: 5 },
              },
            ]),
            topologySpreadConstraints: spreadOverNodes(serverSelector),
          },
        },
      },
    });
    if (config.replicas > 1) addDisruptionBudget(obj, names.pdb, "feature-server", serverSelector);
    if (config.materialize)
      obj("cron", "batch/v1", "CronJob", names.cronJob, "materialize", {
        spec: {
          schedule: config.materialize.schedule,
          concurrencyPolicy: "Forbid",
          startingDeadlineSeconds: 600,
          successfulJobsHistoryLimit: 3,
          failedJobsHistoryLimit: 3,
          jobTemplate: {
            spec: {
              backoffLimit: 2,
              activeDeadlineSeconds: 3 * 3600,
              ttlSecondsAfterFinished: 86400,
              template: {
                metadata: { labels: labels("materialize") },
                spec: podSpec(
                  [
                    {
                      name: "materialize",
                      command: ["sh", "-c", MATERIALIZE_SCRIPT],
                      resources: containerResources(config.resources, { request: "256Mi", limit: "4Gi" }),
                    },
                  ],
                  "Never",
                ),
              },
            },
          },
        },
      });
    const ingressFrom = config.clients.map((c) => c.podLabels);
    if (ingressFrom.length > 0)
      obj("np", "networking.k8s.io/v1", "NetworkPolicy", `${config.name}-server-ingress`, "feature-server", {
        spec: ingressPolicySpec(serverSelector, ingressFrom, [FEAST_PORT]),
      });
  }
}
