import { createHash } from "node:crypto";
import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import { objectAdder, recommendedLabels } from "../shared";
import { bootstrapSql, passwordEnv } from "./bootstrap";
import { consumerSecretName, type PostgresConfig } from "./config";

const UID = 999; // the `postgres` user of the official image
const PORT = 5432;

const restrictedContainer = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
};
const restrictedPod = {
  runAsNonRoot: true,
  runAsUser: UID,
  runAsGroup: UID,
  fsGroup: UID,
  seccompProfile: { type: "RuntimeDefault" },
};

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
    const serverSelector = {
      "app.kubernetes.io/name": "postgres",
      "app.kubernetes.io/instance": config.name,
      "app.kubernetes.io/component": "server",
    };
    const jobSelector = {
      "app.kubernetes.io/name": "postgres",
      "app.kubernetes.io/instance": config.name,
      "app.kubernetes.io/component": "bootstrap",
    };
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
      const r = config.inCluster.resources;
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
              securityContext: restrictedPod,
              containers: [
                {
                  name: "postgres",
                  image: config.inCluster.image,
                  args: settings,
                  ports: [{ name: "postgres", containerPort: PORT }],
                  env: [
                    {
                      name: "POSTGRES_USER",
                      valueFrom: { secretKeyRef: { name: config.adminSecretName, key: "username" } },
                    },
                    {
                      name: "POSTGRES_PASSWORD",
                      valueFrom: { secretKeyRef: { name: config.adminSecretName, key: "password" } },
                    },
                    { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
                  ],
                  resources: {
                    requests: { cpu: r.requestCpu, memory: r.requestMemory, "ephemeral-storage": "256Mi" },
                    limits: { memory: r.limitMemory, "ephemeral-storage": "1Gi" },
                  },
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
                  securityContext: restrictedContainer,
                  volumeMounts: [
                    { name: "data", mountPath: "/var/lib/postgresql/data" },
                    { name: "run", mountPath: "/var/run/postgresql" },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [
                { name: "run", emptyDir: { sizeLimit: "16Mi" } },
                { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: "data", labels: labels("server") },
              spec: {
                accessModes: ["ReadWriteOnce"],
                ...(config.inCluster.storageClassName
                  ? { storageClassName: config.inCluster.storageClassName }
                  : {}),
                resources: { requests: { storage: config.inCluster.storage } },
              },
            },
          ],
        },
      });
      // Only the consumers and the bootstrap Job reach the server.
      obj("np-server", "networking.k8s.io/v1", "NetworkPolicy", `${config.name}-server-ingress`, "server", {
        spec: {
          podSelector: { matchLabels: serverSelector },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [jobSelector, ...config.consumers.map((c) => c.podLabels)].map((l) => ({
                podSelector: { matchLabels: l },
              })),
              ports: [{ protocol: "TCP", port: PORT }],
            },
          ],
        },
      });
    }

    // Egress from the Job and from each consumer to the server (and nowhere else on this port).
    const to = inCluster
      ? [{ podSelector: { matchLabels: serverSelector } }]
      : [{ ipBlock: { cidr: "0.0.0.0/0" } }];
    const egress = (
      oid: string,
      name: string,
      component: string,
      podLabels: Readonly<Record<string, string>>,
    ) =>
      obj(oid, "networking.k8s.io/v1", "NetworkPolicy", name, component, {
        spec: {
          podSelector: { matchLabels: podLabels },
          policyTypes: ["Egress"],
          egress: [{ to, ports: [{ protocol: "TCP", port: config.port }] }],
        },
      });
    egress("np-bootstrap", `${config.name}-bootstrap-egress`, "bootstrap", jobSelector);
    for (const [i, c] of config.consumers.entries())
      egress(`np-consumer-${i}`, `${config.name}-${c.name}-egress`, "client-access", c.podLabels);

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
            securityContext: restrictedPod,
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
                  {
                    name: "PGUSER",
                    valueFrom: { secretKeyRef: { name: config.adminSecretName, key: "username" } },
                  },
                  {
                    name: "PGPASSWORD",
                    valueFrom: { secretKeyRef: { name: config.adminSecretName, key: "password" } },
                  },
                  ...config.consumers.map((c) => ({
                    name: passwordEnv(c.name),
                    valueFrom: {
                      secretKeyRef: { name: consumerSecretName(config.name, c.name), key: "password" },
                    },
                  })),
                ],
                resources: {
                  requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "16Mi" },
                  limits: { memory: "128Mi", "ephemeral-storage": "64Mi" },
                },
                securityContext: restrictedContainer,
                volumeMounts: [
                  { name: "script", mountPath: "/bootstrap", readOnly: true },
                  { name: "tmp", mountPath: "/tmp" },
                ],
              },
            ],
            volumes: [
              { name: "script", configMap: { name: names.bootstrapConfigMap } },
              { name: "tmp", emptyDir: { sizeLimit: "16Mi" } },
            ],
          },
        },
      },
    });
  }
}
