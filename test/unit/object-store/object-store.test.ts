import { beforeAll, describe, expect, it } from "vitest";
import {
  ObjectStore,
  objectStoreObjectNames,
  renderObjectStore,
  resolveObjectStore,
} from "../../../components/object-store";
import { ArgsValidationError, findObject } from "../../../components/shared";
import { installStrictMocks, type RecordedResource, resolved } from "../../helpers/pulumi-mocks";

const consumers = [{ name: "mlflow", podLabels: { app: "mlflow" } }];
const base = { namespace: "data", buckets: ["mlflow-artifacts", "feast-offline"], consumers };

function problemsOf(args: unknown): string[] {
  try {
    resolveObjectStore(args as Parameters<typeof resolveObjectStore>[0]);
  } catch (err) {
    if (err instanceof ArgsValidationError) return err.problems.map((p) => p.path);
    throw err;
  }
  return [];
}

describe("ObjectStore Args", () => {
  it("lists every problem with its path", () => {
    expect(
      problemsOf({
        namespace: "data",
        mode: "external",
        buckets: ["Bad_Bucket", "ok-bucket", "ok-bucket"],
        consumers: [{ name: "x", podLabels: {} }],
        external: { endpoint: "https://user:pw@s3.example.com/path", credentialsSecretName: "" },
        minio: { storage: "0" },
      }),
    ).toEqual([
      "buckets[0]",
      "buckets[2]",
      "consumers[0].podLabels",
      "minio.storage",
      "minio",
      "external.endpoint",
      "external.credentialsSecretName",
    ]);
  });

  it("rejects an unknown mode, a mode without its block, and no buckets", () => {
    expect(problemsOf({ ...base, mode: "gcs" })).toEqual(["mode"]);
    expect(problemsOf({ ...base, mode: "external" })).toEqual(["external"]);
    expect(problemsOf({ ...base, mode: "s3" })).toEqual(["s3"]);
    expect(problemsOf({ ...base, mode: "s3", s3: { region: "moon", roleArn: "role" } })).toEqual([
      "s3.region",
      "s3.roleArn",
    ]);
    expect(problemsOf({ ...base, buckets: [] })).toEqual(["buckets"]);
  });

  it("names the value and the fix", () => {
    expect(() => resolveObjectStore({ ...base, mode: "external" } as never)).toThrow(
      /ObjectStore: 1 invalid argument:\n {2}- external = \(not set\): is required when mode is "external"\. Fix: give external\.endpoint/,
    );
  });
});

describe("ObjectStoreChart", () => {
  const config = resolveObjectStore(base);
  const objects = renderObjectStore(config);
  const names = objectStoreObjectNames(config);

  it("mode minio: a StatefulSet with a PVC, probes, metrics and credentials from the Secret only", () => {
    const sts = findObject(objects, "StatefulSet", "object-store") as never as {
      spec: {
        volumeClaimTemplates: { spec: { resources: { requests: { storage: string } } } }[];
        template: {
          metadata: { annotations: Record<string, string> };
          spec: { containers: Record<string, unknown>[] };
        };
      };
    };
    expect(sts.spec.volumeClaimTemplates[0]?.spec.resources.requests.storage).toBe("50Gi");
    expect(sts.spec.template.metadata.annotations["prometheus.io/path"]).toBe("/minio/v2/metrics/cluster");
    const c = sts.spec.template.spec.containers[0] as Record<string, unknown>;
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: "/minio/health/ready" } });
    expect(c.env).toEqual(
      expect.arrayContaining([
        {
          name: "MINIO_ROOT_PASSWORD",
          valueFrom: { secretKeyRef: { name: "object-store-credentials", key: "AWS_SECRET_ACCESS_KEY" } },
        },
      ]),
    );
    expect(objects.some((o) => o.kind === "Secret")).toBe(false);
    expect(config.endpoint).toBe("http://object-store.data.svc:9000");
  });

  it("admits only the consumers and the bucket Job; each consumer may reach the store's port", () => {
    const np = findObject(objects, "NetworkPolicy", "object-store-server-ingress") as never as {
      spec: { ingress: { from: { podSelector: { matchLabels: Record<string, string> } }[] }[] };
    };
    const from = np.spec.ingress[0]?.from.map((f) => f.podSelector.matchLabels);
    expect(from).toEqual([
      {
        "app.kubernetes.io/name": "minio",
        "app.kubernetes.io/instance": "object-store",
        "app.kubernetes.io/component": "buckets",
      },
      { app: "mlflow" },
    ]);
    const egress = findObject(objects, "NetworkPolicy", "object-store-mlflow-egress");
    expect(JSON.stringify(egress)).toContain('"port":9000');
  });

  it("the bucket Job gets its buckets as arguments, and its name changes with them", () => {
    const job = findObject(objects, "Job", names.bucketJob);
    expect(JSON.stringify(job)).toContain('"create-buckets","mlflow-artifacts","feast-offline"]');
    const other = objectStoreObjectNames(resolveObjectStore({ ...base, buckets: ["only-one"] }));
    expect(other.bucketJob).not.toBe(names.bucketJob);
  });

  it("mode s3: no server, no Job; consumers reach 443; the connection carries the IRSA role", () => {
    const s3 = resolveObjectStore({
      ...base,
      mode: "s3",
      s3: { region: "eu-west-1", roleArn: "arn:aws:iam::123456789012:role/mlops-artifacts" },
    });
    const kinds = renderObjectStore(s3).map((o) => o.kind);
    expect(kinds).toEqual(["NetworkPolicy"]);
    expect(s3.endpoint).toBe("https://s3.eu-west-1.amazonaws.com");
    expect(s3.credentialsSecretName).toBeUndefined();
  });

  it("mode external: the Job uses the user's Secret and the endpoint's port", () => {
    const ext = resolveObjectStore({
      ...base,
      mode: "external",
      external: { endpoint: "https://s3.example.com:8443", credentialsSecretName: "s3-keys" },
    });
    const out = renderObjectStore(ext);
    expect(out.some((o) => o.kind === "StatefulSet")).toBe(false);
    const job = JSON.stringify(out.find((o) => o.kind === "Job"));
    expect(job).toContain('"secretKeyRef":{"key":"AWS_ACCESS_KEY_ID","name":"s3-keys"}');
    expect(JSON.stringify(findObject(out, "NetworkPolicy", "object-store-mlflow-egress"))).toContain(
      '"port":8443',
    );
  });
});

describe("ObjectStore under Pulumi mocks", () => {
  let recorded: RecordedResource[];
  beforeAll(async () => {
    recorded = (await installStrictMocks()).resources;
  });

  it("generates the keys into one Secret and exposes a connection without key material", async () => {
    const store = new ObjectStore("store", base);
    expect(await resolved(store.urn)).toContain("::mlops:data:ObjectStore::store");
    expect(await resolved(store.credentials?.urn)).toContain("kubernetes:core/v1:Secret::store-credentials");
    const secret = recorded.find((r) => r.type === "kubernetes:core/v1:Secret");
    expect(secret?.inputs).toMatchObject({
      metadata: { name: "object-store-credentials", namespace: "data" },
    });
    expect(recorded.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic")).map((r) => r.name)).toEqual([
      "store-access-key",
      "store-secret-key",
    ]);
    const conn = await resolved(store.connection);
    expect(conn).toEqual({
      endpoint: "http://object-store.data.svc:9000",
      region: "us-east-1",
      buckets: ["mlflow-artifacts", "feast-offline"],
      credentialsSecretName: "object-store-credentials",
      serviceAccountAnnotations: {},
    });
  });

  it("registers nothing when Args are invalid", () => {
    const before = recorded.length;
    expect(() => new ObjectStore("bad", { ...base, buckets: [] })).toThrow(/buckets/);
    expect(recorded.length).toBe(before);
  });
});
