import { createHash } from "node:crypto";
import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import {
  addDisruptionBudget,
  containerResources,
  ingressPolicySpec,
  objectAdder,
  objectStoreEnv,
  postgresUriEnv,
  RESTRICTED_CONTAINER_SECURITY,
  recommendedLabels,
  restrictedPodSecurity,
  scratchVolume,
  secretEnv,
  selectorLabels,
  spreadOverNodes,
} from "../shared";
import { MLFLOW_PORT, type MlflowConfig } from "./config";

const UID = 10001;
const AUTH_CONFIG = "/tmp/mlflow/basic_auth.ini";

/**
 * Writes the basic-auth config (its `database_uri` holds the DB password, so it is written at start
 * into the pod's private scratch folder from the environment, never rendered) and starts the server.
 */
export const SERVER_SCRIPT = [
  "set -eu",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
  'if [ -n "${MLFLOW_AUTH_CONFIG_PATH:-}" ]; then',
  '  umask 077; mkdir -p "$(dirname "$MLFLOW_AUTH_CONFIG_PATH")"',
  '  printf "[mlflow]\\ndefault_permission = %s\\ndatabase_uri = %s\\nauthorization_function = mlflow.server.auth:authenticate_request_basic_auth\\n" \\',
  '    "$MLFLOW_AUTH_DEFAULT_PERMISSION" "$MLFLOW_BACKEND_STORE_URI" >"$MLFLOW_AUTH_CONFIG_PATH"',
  "fi",
  'exec mlflow server "$@"',
].join("\n");

/** Upgrades the backend store's schema to the image's MLflow version (idempotent). */
export const MIGRATE_SCRIPT = 'set -eu\nexec mlflow db upgrade "$MLFLOW_BACKEND_STORE_URI"';

/** Names of the objects, so components and tests refer to them without guessing. */
export function mlflowObjectNames(config: Pick<MlflowConfig, "name" | "image" | "database">) {
  // The migration Job runs again when the image (the MLflow version) or the database changes.
  const hash = createHash("sha256")
    .update(`${MIGRATE_SCRIPT}\n${config.image}\n${config.database.secretName}`)
    .digest("hex")
    .slice(0, 8);
  return {
    deployment: config.name,
    service: config.name,
    serviceAccount: config.name,
    migrationJob: `${config.name}-migrate-${hash}`,
    pdb: config.name,
  };
}

/** The server's command line (after `mlflow server`). */
export function mlflowServerArgs(config: MlflowConfig): string[] {
  return [
    "--host",
    "0.0.0.0",
    "--port",
    String(MLFLOW_PORT),
    "--workers",
    String(config.workers),
    "--serve-artifacts",
    "--artifacts-destination",
    config.artifactsDestination,
    "--allowed-hosts",
    config.allowedHosts.join(","),
    "--expose-prometheus",
    "/tmp/metrics",
    ...(config.auth ? ["--app-name", "basic-auth"] : []),
  ];
}

/** The environment of the server and the migration Job: secrets by reference, the URI by `$(VAR)`. */
export function mlflowEnv(config: MlflowConfig, withAuth: boolean) {
  return [
    ...postgresUriEnv("MLFLOW_BACKEND_STORE_URI", "MLFLOW_DB", config.database, "postgresql+psycopg"),
    ...objectStoreEnv(config.objectStore),
    { name: "MLFLOW_S3_ENDPOINT_URL", value: config.objectStore.endpoint },
    { name: "MLFLOW_DISABLE_TELEMETRY", value: "true" },
    { name: "DO_NOT_TRACK", value: "true" },
    { name: "MLFLOW_SERVER_ENABLE_JOB_EXECUTION", value: "false" },
    { name: "HOME", value: "/tmp" },
    ...(withAuth && config.auth
      ? [
          { name: "MLFLOW_AUTH_CONFIG_PATH", value: AUTH_CONFIG },
          { name: "MLFLOW_AUTH_DEFAULT_PERMISSION", value: config.auth.defaultPermission },
          secretEnv("MLFLOW_AUTH_ADMIN_USERNAME", config.authSecretName, "username"),
          secretEnv("MLFLOW_AUTH_ADMIN_PASSWORD", config.authSecretName, "password"),
          secretEnv("MLFLOW_FLASK_SERVER_SECRET_KEY", config.authSecretName, "flask-secret-key"),
        ]
      : []),
  ];
}

/**
 * MLflow tracking server and model registry: a Deployment (Postgres backend store, artifacts
 * proxied into the object store, basic auth, allowed hosts, telemetry off, Prometheus metrics on
 * `/metrics`), a schema-migration Job that runs before it, a PDB when replicated, and ingress only
 * from the listed clients. Egress to Postgres and the object store comes from those components.
 */
export class MlflowChart extends Chart {
  constructor(scope: Construct, id: string, config: MlflowConfig) {
    super(scope, id, { disableResourceNameHashes: true });
    const names = mlflowObjectNames(config);
    const labels = (component: string) =>
      recommendedLabels({ name: "mlflow", instance: config.name, component });
    const obj = objectAdder(this, config.namespace, "mlflow", config.name);
    const serverSelector = selectorLabels("mlflow", config.name, "server");
    const podSpec = (component: string, containers: object[], restartPolicy?: string) => ({
      ...(restartPolicy ? { restartPolicy } : {}),
      serviceAccountName: names.serviceAccount,
      automountServiceAccountToken: false,
      securityContext: restrictedPodSecurity(UID),
      containers: containers.map((c) => ({
        image: config.image,
        securityContext: RESTRICTED_CONTAINER_SECURITY,
        volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        ...c,
      })),
      volumes: [scratchVolume("tmp", component === "server" ? "1Gi" : "64Mi")],
    });

    // Workload identity for the object store (IRSA in mode `s3`) goes on the ServiceAccount.
    obj(
      "sa",
      "v1",
      "ServiceAccount",
      names.serviceAccount,
      "server",
      { automountServiceAccountToken: false },
      config.objectStore.serviceAccountAnnotations,
    );
    obj("svc", "v1", "Service", names.service, "server", {
      spec: {
        type: "ClusterIP",
        selector: serverSelector,
        ports: [{ name: "http", port: MLFLOW_PORT, targetPort: "http" }],
      },
    });
    obj("migrate", "batch/v1", "Job", names.migrationJob, "migrate", {
      spec: {
        backoffLimit: 10,
        activeDeadlineSeconds: 1800,
        ttlSecondsAfterFinished: 86400,
        template: {
          metadata: { labels: labels("migrate") },
          spec: podSpec(
            "migrate",
            [
              {
                name: "migrate",
                command: ["sh", "-c", MIGRATE_SCRIPT],
                env: mlflowEnv(config, false),
                resources: containerResources({
                  requestCpu: "100m",
                  requestMemory: "256Mi",
                  limitMemory: "512Mi",
                }),
              },
            ],
            "OnFailure",
          ),
        },
      },
    });
    const probe = { httpGet: { path: "/health", port: "http" } };
    obj("deploy", "apps/v1", "Deployment", names.deployment, "server", {
      spec: {
        replicas: config.replicas,
        selector: { matchLabels: serverSelector },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: {
            labels: labels("server"),
            annotations: {
              "prometheus.io/scrape": "true",
              "prometheus.io/port": String(MLFLOW_PORT),
              "prometheus.io/path": "/metrics",
            },
          },
          spec: {
            ...podSpec("server", [
              {
                name: "mlflow",
                command: ["sh", "-c", SERVER_SCRIPT, "mlflow-server"],
                args: mlflowServerArgs(config),
                ports: [{ name: "http", containerPort: MLFLOW_PORT }],
                env: mlflowEnv(config, true),
                resources: containerResources(config.resources, { request: "256Mi", limit: "1Gi" }),
                startupProbe: { ...probe, periodSeconds: 5, failureThreshold: 60 },
                readinessProbe: { ...probe, periodSeconds: 10, failureThreshold: 3 },
                livenessProbe: { ...probe, periodSeconds: 20, failureThreshold: 3, timeoutSeconds: 5 },
              },
            ]),
            topologySpreadConstraints: spreadOverNodes(serverSelector),
          },
        },
      },
    });
    if (config.replicas > 1) addDisruptionBudget(obj, names.pdb, "server", serverSelector);
    if (config.clients.length > 0)
      obj("np", "networking.k8s.io/v1", "NetworkPolicy", `${config.name}-server-ingress`, "server", {
        spec: ingressPolicySpec(
          serverSelector,
          config.clients.map((c) => c.podLabels),
          [MLFLOW_PORT],
        ),
      });
  }
}
