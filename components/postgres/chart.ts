import { createHash } from "node:crypto";
import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import {
  ANYWHERE,
  addClientPolicies,
  containerResources,
  dataVolumeClaim,
  egressPolicySpec,
  objectAdder,
  podPeer,
  RESTRICTED_CONTAINER_SECURITY,
  recommendedLabels,
  restrictedPodSecurity,
  scratchVolume,
  secretEnv,
  selectorLabels,
} from "../shared";
import { bootstrapSql, passwordEnv } from "./bootstrap";
import { consumerSecretName, type PostgresConfig } from "./config";

const UID = 999; // the `postgres` user of the official image
const PORT = 5432;

/** Names of the objects, so components and tests refer to them without guessing. */
export function postgresObjectNames(config: Pick<PostgresConfig, "name" | "consumers">) {
  const hash = createHash("sha256").update(bootstrapSql(config.consumers)).digest("hex").slice(0, 8);
  return {
    service: config.name,
    statefulSet: config.name,
    serviceAccount: config.name,
    bootstrapJob: `${config.name}-bootstrap-${hash}`,
    bootstrapConfigMap: `${config.name}-bootstrap-${hash}`,
    bootstrapServiceAccount: `${config.name}-bootstrap`,
  };
}

/** The server's `-c` settings (rendered into the StatefulSet's args; the integration tier runs them). */
export function serverSettings(config: PostgresConfig): Record<string, string> {
  return {
    listen_addresses: "*",
    max_connections: String(config.inCluster.maxConnections),
    password_encryption: "scram-sha-256",
    log_connections: "on",
    log_min_duration_statement: "1000",
  };
}

/**
 * Postgres for the platform's state: in mode `in-cluster` a single-replica StatefulSet on the
 * official image with a data PVC; in both modes a bootstrap Job that creates one role and database
 * per consumer (idempotent), and NetworkPolicies that admit only the consumers and the Job.
 * Secrets are referenced by name: the component (or the user) creates them.
 */
export class PostgresChart extends Chart {
  constructor(scope: Construct, id: string, config: PostgresConfig) {
    super(scope, id, { disableResourceNameHashes: true });
    const names = postgresObjectNames(config);
    const ns = config.namespace;
    const labels = (component: string) =>
      recommendedLabels({ name: "postgres", instance: config.name, component });
    const serverSelector = selectorLabels("postgres", config.name, "server");
    const jobSelector = selectorLabels("postgres", config.name, "bootstrap");
    const obj = objectAdder(this, ns, "postgres", config.name);

    const inCluster = config.mode === "in-cluster";
    if (inCluster) {
      obj("sa", "v1", "ServiceAccount", names.serviceAccount, "server", {
        automountServiceAccountToken: false,
      });
      obj("svc", "v1", "Service", names.service, "server", {
        spec: {
          type: "ClusterIP",
          selector: serverSelector,
          ports: [{ name: "postgres", port: PORT, targetPort: "postgres" }],
        },
      });
      const settings = Object.entries(serverSettings(config)).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
      obj("sts", "apps/v1", "StatefulSet", names.statefulSet, "server", {
        spec: {
          serviceName: names.service,
          replicas: 1,
          selector: { matchLabels: serverSelector },
          template: {
            metadata: { labels: { ...labels("server") } },
            spec: {
              serviceAccountName: names.serviceAccount,
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurity(UID),
              containers: [
                {
                  name: "postgres",
                  image: config.inCluster.image,
                  args: settings,
                  ports: [{ name: "postgres", containerPort: PORT }],
                  env: [
                    secretEnv("POSTGRES_USER", config.adminSecretName, "username"),
                    secretEnv("POSTGRES_PASSWORD", config.adminSecretName, "password"),
                    { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                  ],
                  resources: containerResources(config.inCluster.resources, {
                    request: "256Mi",
                    limit: "1Gi",
                  }),
                  readinessProbe: {
                    exec: { command: ["sh", "-c", 'pg_isready -h 127.0.0.1 -U "$POSTGRES_USER"'] },
                    periodSeconds: 5,
                    failureThreshold: 6,
                  },
                  livenessProbe: {
                    tcpSocket: { port: "postgres" },
                    initialDelaySeconds: 30,
                    periodSeconds: 10,
                    failureThreshold: 6,
                  },
                  securityContext: RESTRICTED_CONTAINER_SECURITY,
                  volumeMounts: [
                    { name: "data", mountPath: "/var/lib/postgresql/data" },
                    { name: "run", mountPath: "/var/run/postgresql" },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [scratchVolume("run", "16Mi"), scratchVolume("tmp", "256Mi")],
            },
          },
          volumeClaimTemplates: [
            dataVolumeClaim(labels("server"), config.inCluster.storage, config.inCluster.storageClassName),
          ],
        },
      });
    }

    // Only the consumers and the bootstrap Job reach the server; they may reach its port, nothing else.
    const peers = inCluster ? [podPeer(serverSelector)] : ANYWHERE;
    addClientPolicies(obj, {
      name: config.name,
      ...(inCluster ? { serverSelector } : {}),
      peers,
      port: config.port,
      clients: config.consumers,
      alsoAdmit: [jobSelector],
    });
    obj(
      "np-bootstrap",
      "networking.k8s.io/v1",
      "NetworkPolicy",
      `${config.name}-bootstrap-egress`,
      "bootstrap",
      {
        spec: egressPolicySpec(jobSelector, peers, [config.port]),
      },
    );

    obj("cm", "v1", "ConfigMap", names.bootstrapConfigMap, "bootstrap", {
      data: { "bootstrap.sql": bootstrapSql(config.consumers) },
    });
    obj("job-sa", "v1", "ServiceAccount", names.bootstrapServiceAccount, "bootstrap", {
      automountServiceAccountToken: false,
    });
    obj("job", "batch/v1", "Job", names.bootstrapJob, "bootstrap", {
      spec: {
        backoffLimit: 10,
        activeDeadlineSeconds: 900,
        template: {
          metadata: { labels: { ...labels("bootstrap") } },
          spec: {
            restartPolicy: "OnFailure",
            serviceAccountName: names.bootstrapServiceAccount,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurity(UID),
            containers: [
              {
                name: "bootstrap",
                image: config.inCluster.image,
                command: [
                  "sh",
                  "-c",
                  'until pg_isready -t 5; do echo "waiting for $PGHOST:$PGPORT"; sleep 2; done; exec psql -X -f /bootstrap/bootstrap.sql',
                ],
                env: [
                  { name: "PGHOST", value: config.host },
                  { name: "PGPORT", value: String(config.port) },
                  { name: "PGDATABASE", value: "postgres" },
                  { name: "PGSSLMODE", value: config.sslMode },
                  secretEnv("PGUSER", config.adminSecretName, "username"),
                  secretEnv("PGPASSWORD", config.adminSecretName, "password"),
                  ...config.consumers.map((c) =>
                    secretEnv(passwordEnv(c.name), consumerSecretName(config.name, c.name), "password"),
                  ),
                ],
                resources: containerResources(
                  { requestCpu: "50m", requestMemory: "64Mi", limitMemory: "128Mi" },
                  { request: "16Mi", limit: "64Mi" },
                ),
                securityContext: RESTRICTED_CONTAINER_SECURITY,
                volumeMounts: [
                  { name: "script", mountPath: "/bootstrap", readOnly: true },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "script", configMap: { name: names.bootstrapConfigMap } },
              scratchVolume("tmp", "16Mi"),
            ],
          },
        },
      },
    });
  }
}
