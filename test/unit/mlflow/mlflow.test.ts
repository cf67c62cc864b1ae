import { beforeAll, describe, expect, it } from "vitest";
import { Mlflow, mlflowObjectNames, renderMlflow, resolveMlflow } from "../../../components/mlflow";
import {
  ArgsValidationError,
  findObject,
  type ObjectStoreConnection,
  type PostgresConnection,
} from "../../../components/shared";
import { installStrictMocks, type RecordedResource, resolved } from "../../helpers/pulumi-mocks";

const database: PostgresConnection = {
  host: "postgres.data.svc",
  port: 5432,
  database: "mlflow",
  username: "mlflow",
  sslMode: "disable",
  secretName: "postgres-mlflow-credentials",
};
const objectStore: ObjectStoreConnection = {
  endpoint: "http://object-store.data.svc:9000",
  region: "us-east-1",
  buckets: ["mlflow-artifacts"],
  credentialsSecretName: "object-store-credentials",
  serviceAccountAnnotations: {},
};
const base = { namespace: "data", database, objectStore };

function problemsOf(args: unknown): string[] {
  try {
    resolveMlflow(args as Parameters<typeof resolveMlflow>[0]);
  } catch (err) {
    if (err instanceof ArgsValidationError) return err.problems.map((p) => p.path);
    throw err;
  }
  return [];
}

type Container = {
  command: string[];
  args: string[];
  env: { name: string; value?: string; valueFrom?: unknown }[];
};
const serverOf = (objects: ReturnType<typeof renderMlflow>) =>
  (findObject(objects, "Deployment", "mlflow").spec as { template: { spec: { containers: Container[] } } })
    .template.spec.containers[0] as Container;

describe("Mlflow Args", () => {
  it("lists every problem with its path", () => {
    expect(
      problemsOf({
        ...base,
        replicas: 0,
        artifactBucket: "elsewhere",
        allowedHosts: ["bad host"],
        auth: { defaultPermission: "ALL" },
        clients: [{ name: "runtime", podLabels: {} }],
      }),
    ).toEqual([
      "replicas",
      "replicas",
      "artifactBucket",
      "allowedHosts[0]",
      "auth.defaultPermission",
      "clients[0].podLabels",
    ]);
  });

  it("requires two replicas in production, allows one in local", () => {
    expect(() => resolveMlflow({ ...base, replicas: 1 })).toThrow(
      /replicas = 1: must be 2 or more with profile "production".* Fix: set replicas: 2/,
    );
    expect(resolveMlflow({ ...base, profile: "local" }).replicas).toBe(1);
    expect(resolveMlflow(base).replicas).toBe(2);
  });

  it("requires the database and object store connections", () => {
    expect(problemsOf({ namespace: "data" })).toEqual(["database", "objectStore"]);
  });
});

describe("MlflowChart", () => {
  const config = resolveMlflow({ ...base, clients: [{ name: "runtime", podLabels: { app: "runtime" } }] });
  const objects = renderMlflow(config);
  const server = serverOf(objects);
  const names = mlflowObjectNames(config);

  it("runs the server with proxied artifacts, basic auth, allowed hosts and metrics", () => {
    expect(server.args).toEqual(
      expect.arrayContaining([
        "--serve-artifacts",
        "--artifacts-destination",
        "s3://mlflow-artifacts/mlflow",
        "--app-name",
        "basic-auth",
      ]),
    );
    const hosts = server.args[server.args.indexOf("--allowed-hosts") + 1];
    expect(hosts).toBe(
      "mlflow,mlflow:*,mlflow.data,mlflow.data:*,mlflow.data.svc,mlflow.data.svc:*,mlflow.data.svc.cluster.local,mlflow.data.svc.cluster.local:*",
    );
    expect(server.args).toEqual(expect.arrayContaining(["--expose-prometheus", "/tmp/metrics"]));
  });

  it("builds the backend URI from Secret references only, and turns telemetry off", () => {
    const env = Object.fromEntries(server.env.map((e) => [e.name, e]));
    expect(env.MLFLOW_BACKEND_STORE_URI?.value).toBe(
      "postgresql+psycopg://$(MLFLOW_DB_USERNAME):$(MLFLOW_DB_PASSWORD)@$(MLFLOW_DB_HOST):$(MLFLOW_DB_PORT)/$(MLFLOW_DB_DATABASE)?sslmode=disable",
    );
    expect(env.MLFLOW_DB_PASSWORD?.valueFrom).toEqual({
      secretKeyRef: { name: "postgres-mlflow-credentials", key: "password" },
    });
    expect(env.MLFLOW_AUTH_ADMIN_PASSWORD?.valueFrom).toEqual({
      secretKeyRef: { name: "mlflow-admin", key: "password" },
    });
    expect(env.MLFLOW_DISABLE_TELEMETRY?.value).toBe("true");
    expect(env.AWS_SECRET_ACCESS_KEY?.valueFrom).toEqual({
      secretKeyRef: { name: "object-store-credentials", key: "AWS_SECRET_ACCESS_KEY" },
    });
    expect(objects.some((o) => o.kind === "Secret")).toBe(false);
  });

  it("has a migration Job, a PDB for two replicas, and ingress only from the clients", () => {
    expect(findObject(objects, "Job", names.migrationJob)).toBeDefined();
    expect(findObject(objects, "PodDisruptionBudget", "mlflow").spec).toMatchObject({ maxUnavailable: 1 });
    const np = findObject(objects, "NetworkPolicy", "mlflow-server-ingress");
    expect(JSON.stringify(np.spec)).toContain('"from":[{"podSelector":{"matchLabels":{"app":"runtime"}}}]');
    const local = renderMlflow(resolveMlflow({ ...base, profile: "local" }));
    expect(local.some((o) => o.kind === "PodDisruptionBudget")).toBe(false);
  });

  it("auth false: no basic-auth app and no admin credential", () => {
    const open = serverOf(renderMlflow(resolveMlflow({ ...base, auth: false })));
    expect(open.args).not.toContain("basic-auth");
    expect(open.env.some((e) => e.name.startsWith("MLFLOW_AUTH_"))).toBe(false);
  });

  it("mode s3 object store: the ServiceAccount carries the IRSA role", () => {
    const irsa = renderMlflow(
      resolveMlflow({
        ...base,
        objectStore: {
          endpoint: "https://s3.eu-west-1.amazonaws.com",
          region: "eu-west-1",
          buckets: ["mlflow-artifacts"],
          serviceAccountAnnotations: {
            "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/mlflow",
          },
        },
      }),
    );
    expect(findObject(irsa, "ServiceAccount", "mlflow").metadata.annotations).toEqual({
      "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/mlflow",
    });
  });
});

describe("Mlflow under Pulumi mocks", () => {
  let recorded: RecordedResource[];
  beforeAll(async () => {
    recorded = (await installStrictMocks()).resources;
  });

  it("generates the admin Secret and registers the migration Job and the Deployment", async () => {
    const m = new Mlflow("mlflow", base);
    expect(await resolved(m.trackingUri)).toBe("http://mlflow.data.svc:5000");
    expect(await resolved(m.adminSecretName)).toBe("mlflow-admin");
    expect(await resolved(m.adminSecret?.urn)).toContain("kubernetes:core/v1:Secret::mlflow-admin");
    const deployment = [...m.resources.entries()].find(([k]) => k.startsWith("apps/v1/Deployment"))?.[1];
    expect(await resolved(deployment?.urn)).toContain("Deployment::mlflow-deployment-data-mlflow");
    expect(recorded.some((r) => r.type === "kubernetes:batch/v1:Job")).toBe(true);
    expect(m.podLabels).toEqual({
      "app.kubernetes.io/name": "mlflow",
      "app.kubernetes.io/instance": "mlflow",
    });
  });

  it("registers nothing when Args are invalid", () => {
    const before = recorded.length;
    expect(() => new Mlflow("bad", { ...base, replicas: 0 })).toThrow(/replicas/);
    expect(recorded.length).toBe(before);
  });
});
