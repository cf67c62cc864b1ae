import { check, Problems } from "../shared";

/** A service that gets its own database and role (e.g. mlflow, feast, runtime). */
export interface PostgresConsumer {
  /** Database and role name (a DNS-1123 label, also valid SQL identifier once `-` becomes `_`). */
  readonly name: string;
  /**
   * Labels of the consumer's pods, in the same namespace: the only pods the NetworkPolicy admits to
   * port 5432 (besides the bootstrap Job). Pass the labels the consumer component exports.
   */
  readonly podLabels: Readonly<Record<string, string>>;
}

export interface InCluster {
  /** Server image: the official Postgres image (no Bitnami). @default "docker.io/library/postgres:17.6-bookworm" */
  readonly image?: string;
  /** Size of the data volume. @default "10Gi" */
  readonly storage?: string;
  /** StorageClass of the data volume. @default - the cluster's default class */
  readonly storageClassName?: string;
  /** @default { requestCpu: "250m", requestMemory: "512Mi", limitMemory: "1Gi" } */
  readonly resources?: {
    readonly requestCpu?: string;
    readonly requestMemory?: string;
    readonly limitMemory?: string;
  };
  /** `max_connections`. @default 200 */
  readonly maxConnections?: number;
}

export interface External {
  /** Host name of the server (e.g. an RDS endpoint from the cloud layer). */
  readonly host: string;
  /** @default 5432 */
  readonly port?: number;
  /** Secret in the namespace with keys `username` and `password` of a role that may create roles and databases. */
  readonly adminSecretName: string;
  /** libpq `sslmode` for every connection. @default "require" */
  readonly sslMode?: "disable" | "require" | "verify-ca" | "verify-full";
}

export interface PostgresArgs {
  /** Namespace for every object (a PlatformNamespace's name). */
  readonly namespace: string;
  /** Name of the Service / StatefulSet and prefix of Secrets. @default "postgres" */
  readonly name?: string;
  /** `in-cluster`: a StatefulSet on the official image; `external`: an existing server. @default "in-cluster" */
  readonly mode?: "in-cluster" | "external";
  /** Settings of the in-cluster server (mode `in-cluster`). */
  readonly inCluster?: InCluster;
  /** The existing server (required in mode `external`). */
  readonly external?: External;
  /** One database and role per consumer, created idempotently by the bootstrap Job. */
  readonly consumers: readonly PostgresConsumer[];
}

export interface PostgresConfig {
  readonly namespace: string;
  readonly name: string;
  readonly mode: "in-cluster" | "external";
  readonly inCluster: Required<Omit<InCluster, "storageClassName" | "resources">> & {
    readonly storageClassName?: string;
    readonly resources: Required<NonNullable<InCluster["resources"]>>;
  };
  readonly host: string;
  readonly port: number;
  readonly sslMode: NonNullable<External["sslMode"]>;
  /** Secret with the admin role's `username` and `password`. */
  readonly adminSecretName: string;
  readonly consumers: readonly PostgresConsumer[];
}

export const postgresDefaults = {
  name: "postgres",
  image: "docker.io/library/postgres:17.6-bookworm",
  storage: "10Gi",
  resources: { requestCpu: "250m", requestMemory: "512Mi", limitMemory: "1Gi" },
  maxConnections: 200,
} as const;

/** The Secret holding one consumer's credentials (keys: username, password, database, host, port). */
export function consumerSecretName(name: string, consumer: string): string {
  return `${name}-${consumer}-credentials`;
}

/** SQL identifier of a consumer: its name with `-` as `_`. */
export function sqlName(consumer: string): string {
  return consumer.replaceAll("-", "_");
}

/** Validates Args and applies defaults; every problem with its path, nothing created on error. */
export function resolvePostgres(args: PostgresArgs, component = "Postgres"): PostgresConfig {
  const p = new Problems();
  p.dnsLabel("namespace", args?.namespace);
  const name = args?.name ?? postgresDefaults.name;
  p.dnsLabel("name", name);
  const mode = args?.mode ?? "in-cluster";
  p.oneOf("mode", mode, ["in-cluster", "external"] as const);
  const ic = args?.inCluster ?? {};
  const resources = { ...postgresDefaults.resources, ...(ic.resources ?? {}) };
  p.quantity("inCluster.storage", ic.storage, { positive: true });
  for (const k of ["requestCpu", "requestMemory", "limitMemory"] as const)
    p.quantity(`inCluster.resources.${k}`, resources[k], { positive: true });
  p.integer("inCluster.maxConnections", ic.maxConnections ?? postgresDefaults.maxConnections, 10, 10000);
  check.image(p, "inCluster.image", ic.image);

  const ext = args?.external;
  if (mode === "external") {
    if (!ext) {
      p.add(
        "external",
        ext,
        'is required when mode is "external".',
        "give external.host and external.adminSecretName.",
      );
    } else {
      if (typeof ext.host !== "string" || ext.host.trim() === "")
        p.add("external.host", ext.host, 'is required in mode "external".', "give the server's host name.");
      if (ext.port !== undefined) p.integer("external.port", ext.port, 1, 65535);
      p.dnsLabel("external.adminSecretName", ext.adminSecretName);
      if (ext.sslMode !== undefined)
        p.oneOf("external.sslMode", ext.sslMode, ["disable", "require", "verify-ca", "verify-full"] as const);
    }
  } else if (ext !== undefined) {
    p.add("external", ext, 'is only used when mode is "external".', 'remove it, or set mode: "external".');
  }

  const consumers = args?.consumers;
  check.podsRefs(p, "consumers", consumers, { min: 1, example: '{ name: "mlflow", podLabels: { ... } }' });
  (Array.isArray(consumers) ? consumers : []).forEach((c, i) => {
    if (["postgres", "template0", "template1", "public"].includes(c?.name))
      p.add(`consumers[${i}].name`, c.name, "is reserved by Postgres.", "choose another name.");
  });
  p.throwIfAny(component);

  const external = mode === "external" ? (ext as External) : undefined;
  return {
    namespace: args.namespace,
    name,
    mode,
    inCluster: {
      image: ic.image ?? postgresDefaults.image,
      storage: ic.storage ?? postgresDefaults.storage,
      ...(ic.storageClassName ? { storageClassName: ic.storageClassName } : {}),
      resources,
      maxConnections: ic.maxConnections ?? postgresDefaults.maxConnections,
    },
    host: external ? external.host : `${name}.${args.namespace}.svc`,
    port: external?.port ?? 5432,
    sslMode: external?.sslMode ?? (external ? "require" : "disable"),
    adminSecretName: external ? external.adminSecretName : `${name}-admin`,
    consumers: [...consumers],
  };
}
