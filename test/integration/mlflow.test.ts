import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mlflowObjectNames, renderMlflow, resolveMlflow } from "../../components/mlflow";
import {
  objectStoreConnection,
  objectStoreObjectNames,
  renderObjectStore,
  resolveObjectStore,
} from "../../components/object-store";
import { postgresConnection, resolvePostgres } from "../../components/postgres";
import { findObject } from "../../components/shared";
import { type LocalS3, startS3 } from "../helpers/moto";
import { freePort, type LocalPostgres, startBootstrappedPostgres } from "../helpers/postgres";
import {
  containerNamed,
  type RunningContainer,
  runToCompletion,
  startContainer,
  venvBin,
  waitForHttp,
} from "../helpers/rendered";

/**
 * The ObjectStore's bucket Job and the MLflow chart on real servers: PostgreSQL (Debian), an
 * S3-compatible server (moto) and `mlflow server` (PyPI), each run with the command, args and
 * environment our charts render, Secret references resolved the way the components fill them.
 */
const NS = "data";
const mlflowLabels = { "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": "mlflow" };
const pgConfig = resolvePostgres({ namespace: NS, consumers: [{ name: "mlflow", podLabels: mlflowLabels }] });
let pg: LocalPostgres;
let s3: LocalS3;
let server: RunningContainer;
let work: string;
let trackingUri: string;
const secrets = new Map<string, Record<string, string>>();
const admin = { username: "admin", password: `admin-${Math.random().toString(36).slice(2)}` };

const storeConfig = () =>
  resolveObjectStore({
    namespace: NS,
    mode: "external",
    external: { endpoint: s3.endpoint, credentialsSecretName: "s3-keys" },
    buckets: ["mlflow-artifacts", "feast-offline"],
    consumers: [{ name: "mlflow", podLabels: mlflowLabels }],
  });
const mlflowConfig = () =>
  resolveMlflow({
    namespace: NS,
    profile: "local",
    database: postgresConnection(pgConfig, "mlflow"),
    objectStore: objectStoreConnection(storeConfig()),
    // The test's client reaches the server on loopback; in the cluster only Service names are allowed.
    allowedHosts: ["127.0.0.1:*"],
  });

function runBucketJob() {
  const config = storeConfig();
  const job = findObject(renderObjectStore(config), "Job", objectStoreObjectNames(config).bucketJob);
  return runToCompletion(containerNamed(job, "buckets"), {
    secrets,
    path: [venvBin("s3")],
    mounts: { "/tmp": path.join(work, "buckets-tmp") },
  });
}

function awsCli(...args: string[]) {
  return spawnSync(`${venvBin("s3")}/aws`, ["--endpoint-url", s3.endpoint, ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
    },
    encoding: "utf8",
  });
}

/** GET with an explicit Host header (fetch cannot set one). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}
const basic = (u: string, p: string) => ({
  Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}`,
});

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "mlops-mlflow-it-"));
  for (const d of ["buckets-tmp", "migrate-tmp", "server-tmp"]) mkdirSync(path.join(work, d));
  [pg, s3] = await Promise.all([startBootstrappedPostgres(pgConfig, secrets, work), startS3()]);
  secrets.set("s3-keys", { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey });
  secrets.set(mlflowConfig().authSecretName, { ...admin, "flask-secret-key": "k".repeat(64) });
}, 180_000);

afterAll(async () => {
  await server?.stop();
  await s3?.stop();
  await pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("ObjectStore bucket Job on a real S3-compatible server", () => {
  it("creates every bucket, and a second run changes nothing", () => {
    const first = runBucketJob();
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("bucket mlflow-artifacts: created");
    expect(first.stdout).toContain("bucket feast-offline: created");
    const second = runBucketJob();
    expect(second.status).toBe(0);
    expect(second.stdout).toContain("bucket mlflow-artifacts: exists");
    expect(second.stdout).not.toContain("created");
    const list = awsCli("s3api", "list-buckets", "--query", "Buckets[].Name", "--output", "text");
    expect(list.stdout.trim().split(/\s+/).sort()).toEqual(["feast-offline", "mlflow-artifacts"]);
  });
});

describe("MLflow on real Postgres and S3", () => {
  beforeAll(async () => {
    const objects = renderMlflow(mlflowConfig());
    const names = mlflowObjectNames(mlflowConfig());
    // The schema migration Job, then the server, as the component orders them.
    const migrate = runToCompletion(
      containerNamed(findObject(objects, "Job", names.migrationJob), "migrate"),
      {
        secrets,
        path: [venvBin("mlflow")],
        mounts: { "/tmp": path.join(work, "migrate-tmp") },
      },
    );
    if (migrate.status !== 0) throw new Error(`migration failed:\n${migrate.stderr.slice(-3000)}`);
    const port = await freePort();
    server = startContainer(containerNamed(findObject(objects, "Deployment", names.deployment), "mlflow"), {
      secrets,
      path: [venvBin("mlflow")],
      mounts: { "/tmp": path.join(work, "server-tmp") },
      argOverrides: { "--port": String(port), "--host": "127.0.0.1", "--workers": "1" },
    });
    trackingUri = `http://127.0.0.1:${port}`;
    await waitForHttp(`${trackingUri}/health`, server, 180_000);
  }, 300_000);

  it("the migration Job created the schema in MLflow's own database", () => {
    const r = spawnSync(
      path.join(pg.bin, "psql"),
      [
        "-X",
        "-A",
        "-t",
        "-h",
        pg.host,
        "-p",
        String(pg.port),
        "-U",
        "mlflow",
        "-d",
        "mlflow",
        "-c",
        "SELECT count(*) FROM alembic_version",
      ],
      {
        env: { PGPASSWORD: secrets.get("postgres-mlflow-credentials")?.password, PATH: process.env.PATH },
        encoding: "utf8",
      },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("1");
  });

  it("refuses unauthenticated and wrongly authenticated requests; admits the generated admin", async () => {
    const api = `${trackingUri}/api/2.0/mlflow/experiments/search?max_results=1`;
    expect((await get(api)).status).toBe(401);
    expect((await get(api, basic("admin", "wrong"))).status).toBe(401);
    expect((await get(api, basic(admin.username, admin.password))).status).toBe(200);
  });

  it("refuses a Host header outside the allowed hosts", async () => {
    const r = await get(`${trackingUri}/api/2.0/mlflow/experiments/search?max_results=1`, {
      ...basic(admin.username, admin.password),
      Host: "attacker.example.com",
    });
    expect([400, 403]).toContain(r.status);
    const ok = await get(`${trackingUri}/api/2.0/mlflow/experiments/search?max_results=1`, {
      ...basic(admin.username, admin.password),
      Host: "mlflow.data.svc:5000",
    });
    expect(ok.status).toBe(200);
  });

  it("logs a run with an artifact that lands in the bucket through the proxy, and registers a model version", () => {
    const script = `
import json, os, tempfile
import mlflow
from mlflow import MlflowClient
assert not any(k.startswith("AWS_") for k in os.environ), "the client must need no bucket credentials"
exp = mlflow.create_experiment("integration")
with mlflow.start_run(experiment_id=exp) as run:
    mlflow.log_param("alpha", 0.5)
    mlflow.log_metric("rmse", 0.25)
    d = tempfile.mkdtemp()
    open(os.path.join(d, "weights.txt"), "w").write("w=1\\n")
    mlflow.log_artifact(os.path.join(d, "weights.txt"), artifact_path="model")
client = MlflowClient()
client.create_registered_model("integration-model")
mv = client.create_model_version("integration-model", source=f"{run.info.artifact_uri}/model", run_id=run.info.run_id)
print(json.dumps({"experiment": exp, "run": run.info.run_id, "artifact_uri": run.info.artifact_uri, "version": mv.version}))
`;
    const r = spawnSync(`${venvBin("mlflow")}/python`, ["-c", script], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: work,
        MLFLOW_TRACKING_URI: trackingUri,
        MLFLOW_TRACKING_USERNAME: admin.username,
        MLFLOW_TRACKING_PASSWORD: admin.password,
        MLFLOW_DISABLE_TELEMETRY: "true",
      },
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const out = JSON.parse(r.stdout.trim().split("\n").at(-1) as string);
    expect(out.artifact_uri).toMatch(/^mlflow-artifacts:\//);
    expect(out.version).toBe("1");
    const objects = awsCli(
      "s3api",
      "list-objects-v2",
      "--bucket",
      "mlflow-artifacts",
      "--prefix",
      "mlflow/",
      "--query",
      "Contents[].Key",
      "--output",
      "text",
    );
    expect(objects.status).toBe(0);
    expect(objects.stdout).toContain(`${out.run}/artifacts/model/weights.txt`);
  });

  it("exposes Prometheus metrics", async () => {
    const r = await get(`${trackingUri}/metrics`, basic(admin.username, admin.password)).catch((err) => {
      throw new Error(`GET /metrics failed (${err}); server output:\n${server.output().slice(-4000)}`);
    });
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/^# (HELP|TYPE) /m);
  });
});
