import { createHash } from "node:crypto";
import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import {
  ANYWHERE,
  addClientPolicies,
  containerResources,
  dataVolumeClaim,
  egressPolicySpec,
  OBJECT_STORE_KEYS,
  objectAdder,
  objectStoreEnv,
  podPeer,
  RESTRICTED_CONTAINER_SECURITY,
  recommendedLabels,
  restrictedPodSecurity,
  scratchVolume,
  secretEnv,
  selectorLabels,
} from "../shared";
import { MINIO_PORT, type ObjectStoreConfig } from "./config";

const MINIO_UID = 1000;
const JOB_UID = 65532;

/** The bucket-creation script: create each bucket unless it exists; safe to run any number of times. */
export const BUCKET_SCRIPT = [
  "set -eu",
  'until aws s3api list-buckets >/dev/null; do echo "waiting for $AWS_ENDPOINT_URL"; sleep 2; done',
  'for b in "$@"; do',
  '  if aws s3api head-bucket --bucket "$b" 2>/dev/null; then echo "bucket $b: exists";',
  '  elif [ "$AWS_REGION" = us-east-1 ]; then aws s3api create-bucket --bucket "$b" >/dev/null && echo "bucket $b: created";',
  '  else aws s3api create-bucket --bucket "$b" --create-bucket-configuration "LocationConstraint=$AWS_REGION" >/dev/null && echo "bucket $b: created"; fi',
  "done",
].join("\n");

/** Names of the objects, so components and tests refer to them without guessing. */
export function objectStoreObjectNames(config: Pick<ObjectStoreConfig, "name" | "buckets" | "endpoint">) {
  const hash = createHash("sha256")
    .update(`${BUCKET_SCRIPT}\n${config.endpoint}\n${config.buckets.join(",")}`)
    .digest("hex")
    .slice(0, 8);
  return {
    service: config.name,
    statefulSet: config.name,
    serviceAccount: config.name,
    bucketJob: `${config.name}-buckets-${hash}`,
    bucketJobServiceAccount: `${config.name}-buckets`,
  };
}

/** Labels of the MinIO server pods. */
export function minioSelector(config: Pick<ObjectStoreConfig, "name">) {
  return selectorLabels("minio", config.name, "server");
}

/**
 * The platform's object store. Mode `minio`: a single-node MinIO StatefulSet with a data PVC,
 * metrics for Prometheus, and ingress only from the consumers and the bucket Job. Modes `minio` and
 * `external`: a bucket Job (AWS CLI) that creates the buckets idempotently. Every mode: egress from
 * each consumer to the store's port. Credentials are referenced by Secret name only.
 */
export class ObjectStoreChart extends Chart {
  constructor(scope: Construct, id: string, config: ObjectStoreConfig) {
    super(scope, id, { disableResourceNameHashes: true });
    const names = objectStoreObjectNames(config);
    const app = config.mode === "minio" ? "minio" : "object-store";
    const obj = objectAdder(this, config.namespace, app, config.name);
    const jobSelector = selectorLabels(app, config.name, "buckets");
    const serverSelector = minioSelector(config);
    const serverPeers = config.mode === "minio" ? [podPeer(serverSelector)] : ANYWHERE;

    if (config.mode === "minio") {
      const secret = config.credentialsSecretName as string;
      obj("sa", "v1", "ServiceAccount", names.serviceAccount, "server", {
        automountServiceAccountToken: false,
      });
      obj("svc", "v1", "Service", names.service, "server", {
        spec: {
          type: "ClusterIP",
          selector: serverSelector,
          ports: [{ name: "s3", port: MINIO_PORT, targetPort: "s3" }],
        },
      });
      obj("sts", "apps/v1", "StatefulSet", names.statefulSet, "server", {
        spec: {
          serviceName: names.service,
          replicas: 1,
          selector: { matchLabels: serverSelector },
          template: {
            metadata: {
              labels: recommendedLabels({ name: app, instance: config.name, component: "server" }),
              annotations: {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": String(MINIO_PORT),
                "prometheus.io/path": "/minio/v2/metrics/cluster",
              },
            },
            spec: {
              serviceAccountName: names.serviceAccount,
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurity(MINIO_UID),
              containers: [
                {
                  name: "minio",
                  image: config.minio.image,
                  args: minioArgs(),
                  ports: [{ name: "s3", containerPort: MINIO_PORT }],
                  env: [
                    secretEnv("MINIO_ROOT_USER", secret, OBJECT_STORE_KEYS.accessKeyId),
                    secretEnv("MINIO_ROOT_PASSWORD", secret, OBJECT_STORE_KEYS.secretAccessKey),
                    ...minioEnv(config),
                  ],
                  resources: containerResources(config.minio.resources),
                  readinessProbe: {
                    httpGet: { path: "/minio/health/ready", port: "s3" },
                    periodSeconds: 5,
                    failureThreshold: 6,
                  },
                  livenessProbe: {
                    httpGet: { path: "/minio/health/live", port: "s3" },
                    initialDelaySeconds: 10,
                    periodSeconds: 10,
                    failureThreshold: 6,
                  },
                  securityContext: RESTRICTED_CONTAINER_SECURITY,
                  volumeMounts: [
                    { name: "data", mountPath: "/data" },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [scratchVolume("tmp", "64Mi")],
            },
          },
          volumeClaimTemplates: [
            dataVolumeClaim(
              recommendedLabels({ name: app, instance: config.name }),
              config.minio.storage,
              config.minio.storageClassName,
            ),
          ],
        },
      });
    }

    // Only the consumers and the bucket Job reach MinIO; each consumer may reach the store's port.
    addClientPolicies(obj, {
      name: config.name,
      ...(config.mode === "minio" ? { serverSelector } : {}),
      peers: serverPeers,
      port: config.port,
      clients: config.consumers,
      alsoAdmit: [jobSelector],
    });

    if (config.mode === "s3") return; // buckets come from the cloud layer
    obj("job-sa", "v1", "ServiceAccount", names.bucketJobServiceAccount, "buckets", {
      automountServiceAccountToken: false,
    });
    obj("np-job", "networking.k8s.io/v1", "NetworkPolicy", `${config.name}-buckets-egress`, "buckets", {
      spec: egressPolicySpec(jobSelector, serverPeers, [config.port]),
    });
    obj("job", "batch/v1", "Job", names.bucketJob, "buckets", {
      spec: {
        backoffLimit: 10,
        activeDeadlineSeconds: 900,
        ttlSecondsAfterFinished: 86400,
        template: {
          metadata: { labels: recommendedLabels({ name: app, instance: config.name, component: "buckets" }) },
          spec: {
            restartPolicy: "OnFailure",
            serviceAccountName: names.bucketJobServiceAccount,
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurity(JOB_UID),
            containers: [
              {
                name: "buckets",
                image: config.bucketJobImage,
                command: ["sh", "-c", BUCKET_SCRIPT, "create-buckets", ...config.buckets],
                env: [
                  ...objectStoreEnv({
                    endpoint: config.endpoint,
                    region: config.region,
                    buckets: config.buckets,
                    ...(config.credentialsSecretName
                      ? { credentialsSecretName: config.credentialsSecretName }
                      : {}),
                    serviceAccountAnnotations: {},
                  }),
                  { name: "HOME", value: "/tmp" },
                  { name: "AWS_PAGER", value: "" },
                ],
                resources: containerResources(
                  { requestCpu: "50m", requestMemory: "64Mi", limitMemory: "256Mi" },
                  { request: "16Mi", limit: "128Mi" },
                ),
                securityContext: RESTRICTED_CONTAINER_SECURITY,
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [scratchVolume("tmp", "64Mi")],
          },
        },
      },
    });
  }
}

/** MinIO's command line: one drive at /data, certificates looked up in the scratch folder. */
export function minioArgs(): string[] {
  return ["server", "/data", "--address", `:${MINIO_PORT}`, "--certs-dir", "/tmp/certs"];
}

/** MinIO settings besides the root credentials: no browser console, Prometheus metrics without a token. */
export function minioEnv(config: Pick<ObjectStoreConfig, "region">) {
  return [
    { name: "MINIO_BROWSER", value: "off" },
    { name: "MINIO_PROMETHEUS_AUTH_TYPE", value: "public" },
    { name: "MINIO_REGION", value: config.region },
    { name: "MINIO_UPDATE", value: "off" },
  ];
}
