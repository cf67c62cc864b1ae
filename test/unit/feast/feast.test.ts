// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Feast expands ${VAR} references; these strings are what it reads
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  Feast,
  feastObjectNames,
  featureStoreYaml,
  renderFeast,
  resolveFeast,
} from "../../../components/feast";
import {
  ArgsValidationError,
  findObject,
  type ObjectStoreConnection,
  type PostgresConnection,
} from "../../../components/shared";
import { installStrictMocks, type RecordedResource, resolved } from "../../helpers/pulumi-mocks";

const registry: PostgresConnection = {
  host: "postgres.data.svc",
  port: 5432,
  database: "feast",
  username: "feast",
  sslMode: "disable",
  secretName: "postgres-feast-credentials",
};
const offlineStore: ObjectStoreConnection = {
  endpoint: "http://object-store.data.svc:9000",
  region: "us-east-1",
  buckets: ["feast-offline"],
  credentialsSecretName: "object-store-credentials",
  serviceAccountAnnotations: {},
};
const redis = { host: "redis.data.svc", port: 6379, secretName: "redis-credentials" };
const base = { namespace: "data", registry, offlineStore, onlineStore: { type: "redis" as const, redis } };

function problemsOf(args: unknown): string[] {
  try {
    resolveFeast(args as Parameters<typeof resolveFeast>[0]);
  } catch (err) {
    if (err instanceof ArgsValidationError) return err.problems.map((p) => p.path);
    throw err;
  }
  return [];
}

describe("Feast Args", () => {
  it("lists every problem with its path", () => {
    expect(
      problemsOf({
        ...base,
        project: "my-project",
        replicas: 0,
        onlineStore: { type: "cassandra" },
        materialize: { schedule: "hourly" },
        clients: [{ name: "Model Server", podLabels: { a: "b" } }],
      }),
    ).toEqual([
      "project",
      "replicas",
      "replicas",
      "onlineStore.type",
      "materialize.schedule",
      "clients[0].name",
    ]);
  });

  it("requires the registry, online store and offline store", () => {
    expect(problemsOf({ namespace: "data" })).toEqual(["registry", "onlineStore", "offlineStore"]);
    expect(problemsOf({ ...base, onlineStore: { type: "postgres" } })).toEqual(["onlineStore.database"]);
  });
});

describe("FeastChart", () => {
  const config = resolveFeast({ ...base, clients: [{ name: "serving", podLabels: { app: "model" } }] });
  const objects = renderFeast(config);
  const names = feastObjectNames(config);

  it("renders feature_store.yaml with a SQL registry and Redis, every credential a ${VAR} reference", () => {
    const yaml = (findObject(objects, "ConfigMap", names.configMap) as { data?: Record<string, string> })
      .data?.["feature_store.yaml"] as string;
    expect(yaml).toBe(featureStoreYaml(config));
    const doc = parse(yaml);
    expect(doc.registry).toMatchObject({
      registry_type: "sql",
      path: "postgresql+psycopg://${FEAST_REGISTRY_USERNAME}:${FEAST_REGISTRY_PASSWORD}@${FEAST_REGISTRY_HOST}:${FEAST_REGISTRY_PORT}/${FEAST_REGISTRY_DATABASE}?sslmode=disable",
    });
    expect(doc.online_store).toEqual({
      type: "redis",
      connection_string: "${FEAST_REDIS_HOST}:${FEAST_REDIS_PORT},password=${FEAST_REDIS_PASSWORD}",
    });
    expect(doc.offline_store).toEqual({ type: "dask" });
  });

  it("a Postgres online store reads its credentials from its own Secret", () => {
    const pgOnline = resolveFeast({
      ...base,
      onlineStore: { type: "postgres", database: { ...registry, secretName: "pg-online" } },
    });
    expect(parse(featureStoreYaml(pgOnline)).online_store).toMatchObject({
      type: "postgres",
      password: "${FEAST_ONLINE_PASSWORD}",
    });
    const env = JSON.stringify(findObject(renderFeast(pgOnline), "Deployment", "feast"));
    expect(env).toContain(
      '{"name":"FEAST_ONLINE_PASSWORD","valueFrom":{"secretKeyRef":{"key":"password","name":"pg-online"}}}',
    );
  });

  it("runs the feature server with metrics, two replicas, a PDB, and a materialisation CronJob", () => {
    const deploy = findObject(objects, "Deployment", "feast") as { spec?: { replicas: number } };
    expect(deploy.spec?.replicas).toBe(2);
    expect(JSON.stringify(deploy)).toContain('"--metrics"');
    expect(findObject(objects, "PodDisruptionBudget", "feast")).toBeDefined();
    expect(findObject(objects, "CronJob", names.cronJob).spec).toMatchObject({
      schedule: "0 * * * *",
      concurrencyPolicy: "Forbid",
    });
    const none = renderFeast(resolveFeast({ ...base, profile: "local", materialize: false }));
    expect(none.some((o) => o.kind === "CronJob" || o.kind === "PodDisruptionBudget")).toBe(false);
  });

  it("admits only the clients to the feature server", () => {
    const np = findObject(objects, "NetworkPolicy", "feast-server-ingress") as {
      spec?: { ingress: { from: unknown[]; ports: unknown[] }[] };
    };
    expect(np.spec?.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: { app: "model" } } }],
        ports: [{ protocol: "TCP", port: 6566 }],
      },
    ]);
  });
});

describe("Feast under Pulumi mocks", () => {
  let recorded: RecordedResource[];
  beforeAll(async () => {
    recorded = (await installStrictMocks()).resources;
  });

  it("registers the component with its outputs and no Secret of its own", async () => {
    const f = new Feast("feast", base);
    expect(await resolved(f.urn)).toContain("::mlops:data:Feast::feast");
    expect(await resolved(f.featureServerUrl)).toBe("http://feast.data.svc:6566");
    expect(recorded.some((r) => r.type === "kubernetes:core/v1:Secret")).toBe(false);
  });

  it("registers nothing when Args are invalid", () => {
    const before = recorded.length;
    expect(() => new Feast("bad", { ...base, project: "a-b" })).toThrow(/project/);
    expect(recorded.length).toBe(before);
  });
});
