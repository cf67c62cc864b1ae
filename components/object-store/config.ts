import { type ContainerResources, check, type PodLabels, Problems, urlPort } from "../shared";

/** A service that reads or writes the object store (e.g. mlflow, feast). */
export interface ObjectStoreConsumer {
  /** A DNS-1123 label naming the consumer (used in NetworkPolicy names). */
  readonly name: string;
  /** Labels of the consumer's pods in the same namespace: the only pods admitted to the store. */
  readonly podLabels: PodLabels;
}

export interface MinioSettings {
  /**
   * Server image. MinIO's community edition is in maintenance mode upstream (source only, no new
   * release images since late 2025): point this at your own build or mirror.
   * @default "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
   */
  readonly image?: string;
  /** Size of the data volume. @default "50Gi" */
  readonly storage?: string;
  /** StorageClass of the data volume. @default - the cluster's default class */
  readonly storageClassName?: string;
  /** @default { requestCpu: "250m", requestMemory: "512Mi", limitMemory: "2Gi" } */
  readonly resources?: Partial<ContainerResources>;
}

export interface S3Settings {
  /** AWS region of the buckets. */
  readonly region: string;
  /** IAM role for the consumers' ServiceAccounts (IRSA), from the cloud layer. */
  readonly roleArn: string;
}

export interface ExternalSettings {
  /** S3 API endpoint URL (`https://...`). */
  readonly endpoint: string;
  /** @default "us-east-1" */
  readonly region?: string;
  /** Secret in the namespace with keys `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`. */
  readonly credentialsSecretName: string;
}

export interface ObjectStoreArgs {
  /** Namespace for every object (a PlatformNamespace's name). */
  readonly namespace: string;
  /** Name of the Service / StatefulSet and prefix of Secrets. @default "object-store" */
  readonly name?: string;
  /** `minio` (in-cluster), `s3` (AWS, workload identity) or `external` (any S3-compatible endpoint). @default "minio" */
  readonly mode?: "minio" | "s3" | "external";
  /** Buckets the platform uses; created idempotently in modes `minio` and `external` (mode `s3`: by the cloud layer). */
  readonly buckets: readonly string[];
  /** Services admitted to the store (NetworkPolicies in and out). */
  readonly consumers: readonly ObjectStoreConsumer[];
  /** Mode `minio` settings. */
  readonly minio?: MinioSettings;
  /** Mode `s3` settings (required there). */
  readonly s3?: S3Settings;
  /** Mode `external` settings (required there). */
  readonly external?: ExternalSettings;
  /**
   * Image of the bucket-creation Job (the AWS CLI v2).
   * @default "docker.io/amazon/aws-cli:2.27.50"
   */
  readonly bucketJobImage?: string;
}

export interface ObjectStoreConfig {
  readonly namespace: string;
  readonly name: string;
  readonly mode: "minio" | "s3" | "external";
  readonly buckets: readonly string[];
  readonly consumers: readonly ObjectStoreConsumer[];
  readonly minio: {
    readonly image: string;
    readonly storage: string;
    readonly storageClassName?: string;
    readonly resources: ContainerResources;
  };
  readonly endpoint: string;
  /** TCP port of the endpoint (NetworkPolicy egress). */
  readonly port: number;
  readonly region: string;
  /** Secret with the S3 keys; undefined in mode `s3`. */
  readonly credentialsSecretName?: string;
  readonly roleArn?: string;
  readonly bucketJobImage: string;
}

export const objectStoreDefaults = {
  name: "object-store",
  minioImage: "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z",
  storage: "50Gi",
  resources: { requestCpu: "250m", requestMemory: "512Mi", limitMemory: "2Gi" },
  region: "us-east-1",
  bucketJobImage: "docker.io/amazon/aws-cli:2.27.50",
} as const;

/** The S3 API port of the in-cluster server. */
export const MINIO_PORT = 9000;

/** S3 bucket naming rules (the common subset of AWS and MinIO). */
const BUCKET = /^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/** Validates Args and applies defaults; every problem with its path, nothing created on error. */
export function resolveObjectStore(args: ObjectStoreArgs, component = "ObjectStore"): ObjectStoreConfig {
  const p = new Problems();
  p.dnsLabel("namespace", args?.namespace);
  const name = args?.name ?? objectStoreDefaults.name;
  p.dnsLabel("name", name);
  const mode = args?.mode ?? "minio";
  p.oneOf("mode", mode, ["minio", "s3", "external"] as const);

  const buckets = args?.buckets;
  if (!Array.isArray(buckets) || buckets.length === 0) {
    p.add("buckets", buckets, "must list at least one bucket.", 'add e.g. "mlflow-artifacts".');
  } else {
    const seen = new Set<string>();
    buckets.forEach((b, i) => {
      if (typeof b !== "string" || !BUCKET.test(b))
        p.add(
          `buckets[${i}]`,
          b,
          "is not a valid bucket name (3-63 lowercase letters, digits, '.' or '-').",
          'use a name such as "mlflow-artifacts".',
        );
      else if (seen.has(b)) p.add(`buckets[${i}]`, b, "is listed twice.", "give each bucket once.");
      seen.add(b);
    });
  }
  const consumers = args?.consumers;
  check.podsRefs(p, "consumers", consumers, { min: 0, example: '{ name: "mlflow", podLabels: { ... } }' });

  const m = args?.minio ?? {};
  const resources = { ...objectStoreDefaults.resources, ...(m.resources ?? {}) };
  check.image(p, "minio.image", m.image);
  check.image(p, "bucketJobImage", args?.bucketJobImage);
  p.quantity("minio.storage", m.storage, { positive: true });
  check.resources(p, "minio.resources", resources);

  const only = (key: "minio" | "s3" | "external") => {
    if (args?.[key] !== undefined && mode !== key)
      p.add(key, args[key], `is only used when mode is "${key}".`, `remove it, or set mode: "${key}".`);
  };
  only("minio");
  only("s3");
  only("external");

  const s3 = args?.s3;
  if (mode === "s3") {
    if (!s3) p.add("s3", s3, 'is required when mode is "s3".', "give s3.region and s3.roleArn.");
    else {
      if (typeof s3.region !== "string" || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(s3.region))
        p.add("s3.region", s3.region, "is not an AWS region.", 'use e.g. "eu-west-1".');
      if (typeof s3.roleArn !== "string" || !ROLE_ARN.test(s3.roleArn))
        p.add(
          "s3.roleArn",
          s3.roleArn,
          "is not an IAM role ARN.",
          'pass the role from the cloud layer, e.g. "arn:aws:iam::123456789012:role/mlops-artifacts".',
        );
    }
  }
  const ext = args?.external;
  let extPort = 443;
  if (mode === "external") {
    if (!ext)
      p.add(
        "external",
        ext,
        'is required when mode is "external".',
        "give external.endpoint and external.credentialsSecretName.",
      );
    else {
      let ok = false;
      try {
        const u = new URL(String(ext.endpoint));
        ok = (u.protocol === "https:" || u.protocol === "http:") && u.pathname === "/" && !u.username;
        if (ok) extPort = urlPort(String(ext.endpoint));
      } catch {
        ok = false;
      }
      if (!ok)
        p.add(
          "external.endpoint",
          ext.endpoint,
          "must be an http(s) URL with no path and no credentials.",
          'use e.g. "https://s3.example.com"; put the keys in external.credentialsSecretName.',
        );
      p.dnsLabel("external.credentialsSecretName", ext.credentialsSecretName);
    }
  }
  p.throwIfAny(component);

  const region =
    mode === "s3"
      ? (s3 as S3Settings).region
      : mode === "external"
        ? (ext?.region ?? objectStoreDefaults.region)
        : objectStoreDefaults.region;
  const endpoint =
    mode === "minio"
      ? `http://${name}.${args.namespace}.svc:${MINIO_PORT}`
      : mode === "s3"
        ? `https://s3.${region}.amazonaws.com`
        : (ext as ExternalSettings).endpoint.replace(/\/$/, "");
  return {
    namespace: args.namespace,
    name,
    mode,
    buckets: [...buckets],
    consumers: [...(consumers as ObjectStoreConsumer[])],
    minio: {
      image: m.image ?? objectStoreDefaults.minioImage,
      storage: m.storage ?? objectStoreDefaults.storage,
      ...(m.storageClassName ? { storageClassName: m.storageClassName } : {}),
      resources,
    },
    endpoint,
    port: mode === "minio" ? MINIO_PORT : mode === "s3" ? 443 : extPort,
    region,
    ...(mode === "minio" ? { credentialsSecretName: `${name}-credentials` } : {}),
    ...(mode === "external"
      ? { credentialsSecretName: (ext as ExternalSettings).credentialsSecretName }
      : {}),
    ...(mode === "s3" ? { roleArn: (s3 as S3Settings).roleArn } : {}),
    bucketJobImage: args.bucketJobImage ?? objectStoreDefaults.bucketJobImage,
  };
}
