/**
 * The typed connections one component hands another (ARCHITECTURE: "one component reaches another
 * only through typed Outputs passed in as Args"). Nothing here is secret: passwords and keys stay
 * in the Kubernetes Secret each connection names, which consumers reference, never copy.
 */
import { secretEnv } from "./workload";

/** How a consumer reaches its own Postgres database. */
export interface PostgresConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  /** libpq `sslmode`. */
  readonly sslMode: string;
  /** Secret with keys `username`, `password`, `database`, `host`, `port`. */
  readonly secretName: string;
}

/** Keys of an object-store credentials Secret: the AWS SDKs' own environment variable names. */
export const OBJECT_STORE_KEYS = {
  accessKeyId: "AWS_ACCESS_KEY_ID",
  secretAccessKey: "AWS_SECRET_ACCESS_KEY",
} as const;

/** How a consumer reaches the S3-compatible object store. */
export interface ObjectStoreConnection {
  /** S3 API endpoint URL, e.g. `http://object-store.mlops-data.svc:9000` or `https://s3.eu-west-1.amazonaws.com`. */
  readonly endpoint: string;
  readonly region: string;
  /** Buckets that exist (created by the ObjectStore, or by the cloud layer in mode `s3`). */
  readonly buckets: readonly string[];
  /**
   * Secret with `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`; absent in mode `s3`, where pods get
   * credentials from workload identity (`serviceAccountAnnotations` on their ServiceAccount).
   */
  readonly credentialsSecretName?: string;
  /** Annotations a consumer's ServiceAccount needs (IRSA role in mode `s3`; empty otherwise). */
  readonly serviceAccountAnnotations: Readonly<Record<string, string>>;
}

/** How a consumer reaches Redis (or Valkey). */
export interface RedisConnection {
  readonly host: string;
  readonly port: number;
  /** Secret with key `password`. */
  readonly secretName: string;
}

/**
 * The environment an AWS SDK (boto3, the AWS CLI, s3fs, the JS SDK) needs for the object store:
 * `AWS_ENDPOINT_URL` is the SDKs' standard endpoint override; keys come from the Secret by reference.
 */
export function objectStoreEnv(c: ObjectStoreConnection) {
  return [
    { name: "AWS_ENDPOINT_URL", value: c.endpoint },
    { name: "AWS_REGION", value: c.region },
    { name: "AWS_DEFAULT_REGION", value: c.region },
    ...(c.credentialsSecretName
      ? [
          secretEnv(OBJECT_STORE_KEYS.accessKeyId, c.credentialsSecretName, OBJECT_STORE_KEYS.accessKeyId),
          secretEnv(
            OBJECT_STORE_KEYS.secretAccessKey,
            c.credentialsSecretName,
            OBJECT_STORE_KEYS.secretAccessKey,
          ),
        ]
      : []),
  ];
}

/** The TCP port of a URL (its explicit port, else 443 for https and 80 for http). */
export function urlPort(url: string): number {
  const u = new URL(url);
  return u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80;
}

/**
 * A Postgres connection as environment variables: `<prefix>_USERNAME`, `_PASSWORD`, `_HOST`,
 * `_PORT`, `_DATABASE`, each from the connection's Secret.
 */
export function postgresEnv(prefix: string, c: PostgresConnection) {
  return (["username", "password", "host", "port", "database"] as const).map((key) =>
    secretEnv(`${prefix}_${key.toUpperCase()}`, c.secretName, key),
  );
}

/**
 * The variables of `postgresEnv` plus `name`, a connection URI Kubernetes assembles from them by
 * `$(VAR)` expansion, so the password is in no manifest. `scheme` picks the driver
 * (`postgresql+psycopg` for SQLAlchemy 2.1).
 */
export function postgresUriEnv(name: string, prefix: string, c: PostgresConnection, scheme = "postgresql") {
  const v = (k: string) => `$(${prefix}_${k})`;
  return [
    ...postgresEnv(prefix, c),
    {
      name,
      value: `${scheme}://${v("USERNAME")}:${v("PASSWORD")}@${v("HOST")}:${v("PORT")}/${v("DATABASE")}?sslmode=${c.sslMode}`,
    },
  ];
}
