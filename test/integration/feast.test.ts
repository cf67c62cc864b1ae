import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { feastObjectNames, renderFeast, resolveFeast } from "../../components/feast";
import { postgresConnection, resolvePostgres } from "../../components/postgres";
import { redisConnection, renderRedis, resolveRedis } from "../../components/redis";
import { findObject, type ObjectStoreConnection } from "../../components/shared";
import { Engine } from "../../runtime/src/engine/engine";
import { LocalExecutor } from "../../runtime/src/executors/local";
import { parsePipelineObject } from "../../runtime/src/spec";
import { openPglite, openPostgres } from "../../runtime/src/store/db";
import { migrate } from "../../runtime/src/store/migrations";
import { Pollers } from "../../runtime/src/triggers/pollers";
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
 * Feast with our rendered feature_store.yaml (ConfigMap) and the feature server's and the
 * materialisation CronJob's rendered commands and environment, against a real Postgres (SQL
 * registry), a real Redis started with the Redis chart's rendered command (online store) and a real
 * S3-compatible server (offline parquet).
 */
const NS = "data";
const feastLabels = { "app.kubernetes.io/name": "feast", "app.kubernetes.io/instance": "feast" };
const pgConfig = resolvePostgres({ namespace: NS, consumers: [{ name: "feast", podLabels: feastLabels }] });
const redisConfig = resolveRedis({ namespace: NS, consumers: [{ name: "feast", podLabels: feastLabels }] });
let pg: LocalPostgres;
let s3: LocalS3;
let redis: RunningContainer;
let server: RunningContainer;
let work: string;
let redisPort: number;
let serverUrl: string;
const secrets = new Map<string, Record<string, string>>();

const feastConfig = () => {
  const offline: ObjectStoreConnection = {
    endpoint: s3.endpoint,
    region: "us-east-1",
    buckets: ["feast-offline"],
    credentialsSecretName: "s3-keys",
    serviceAccountAnnotations: {},
  };
  return resolveFeast({
    namespace: NS,
    profile: "local",
    registry: postgresConnection(pgConfig, "feast"),
    onlineStore: { type: "redis", redis: redisConnection(redisConfig) },
    offlineStore: offline,
  });
};

const FEATURES = `
import os
from datetime import timedelta
from feast import Entity, FeatureView, Field, FileSource
from feast.types import Float32, Int64

driver = Entity(name="driver", join_keys=["driver_id"])
source = FileSource(
    path="s3://feast-offline/driver_stats.parquet",
    timestamp_field="event_timestamp",
    s3_endpoint_override=os.environ["AWS_ENDPOINT_URL"],
)
driver_stats = FeatureView(
    name="driver_stats",
    entities=[driver],
    ttl=timedelta(days=3650),
    schema=[Field(name="conv_rate", dtype=Float32), Field(name="trips", dtype=Int64)],
    source=source,
    online=True,
)
`;

const WRITE_PARQUET = `
import io, os, boto3, pandas as pd
from datetime import datetime, timedelta, timezone
now = datetime.now(timezone.utc)
df = pd.DataFrame({
    "driver_id": [1001, 1002, 1001],
    "conv_rate": [0.5, 0.75, 0.25],
    "trips": [10, 20, 30],
    "event_timestamp": [now - timedelta(hours=3), now - timedelta(hours=2), now - timedelta(hours=1)],
})
buf = io.BytesIO(); df.to_parquet(buf, index=False)
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
s3.create_bucket(Bucket="feast-offline")
s3.put_object(Bucket="feast-offline", Key="driver_stats.parquet", Body=buf.getvalue())
`;

/** The feature server container's options: Secrets resolved, the ConfigMap and scratch folder mounted. */
const runOptions = (tmp: string) => ({
  secrets,
  path: [venvBin("feast")],
  mounts: { "/etc/feast": path.join(work, "config"), "/tmp": path.join(work, tmp) },
  cwd: path.join(work, tmp),
});

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "mlops-feast-it-"));
  for (const d of ["config", "repo", "redis-data", "redis-tmp", "server-tmp", "cron-tmp", "apply-tmp"])
    mkdirSync(path.join(work, d));
  [pg, s3] = await Promise.all([startBootstrappedPostgres(pgConfig, secrets, work), startS3()]);
  redisPort = await freePort();
  secrets.set(redisConfig.secretName, {
    password: `redis-${Math.random().toString(36).slice(2)}`,
    host: "127.0.0.1",
    port: String(redisPort),
  });
  secrets.set("s3-keys", { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey });

  // Redis from the Redis chart's rendered command (Debian's redis-server stands in for Valkey).
  redis = startContainer(
    containerNamed(findObject(renderRedis(redisConfig), "StatefulSet", "redis"), "redis"),
    {
      secrets,
      mounts: { "/data": path.join(work, "redis-data"), "/tmp": path.join(work, "redis-tmp") },
      argOverrides: { "--port": String(redisPort), "--bind": "127.0.0.1" },
    },
  );
  const deadline = Date.now() + 30_000;
  while (spawnSync("redis-cli", ["-p", String(redisPort), "ping"], { encoding: "utf8" }).status !== 0) {
    if (redis.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`redis did not start:\n${redis.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  // The offline data: a parquet file in the bucket, and the user's feature repository.
  const upload = spawnSync(`${venvBin("feast")}/python`, ["-c", WRITE_PARQUET], {
    env: {
      PATH: process.env.PATH ?? "",
      AWS_ENDPOINT_URL: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
    },
    encoding: "utf8",
  });
  if (upload.status !== 0) throw new Error(`parquet upload failed:\n${upload.stderr}`);
  writeFileSync(path.join(work, "repo", "features.py"), FEATURES);
  const cmYaml = findObject(
    renderFeast(feastConfig()),
    "ConfigMap",
    feastObjectNames(feastConfig()).configMap,
  ) as {
    data?: Record<string, string>;
  };
  writeFileSync(
    path.join(work, "config", "feature_store.yaml"),
    cmYaml.data?.["feature_store.yaml"] as string,
  );
}, 240_000);

afterAll(async () => {
  await server?.stop();
  await redis?.stop();
  await s3?.stop();
  await pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("Redis chart on a real server", () => {
  it("requires the password from the Secret, and the readiness probe passes", () => {
    const noAuth = spawnSync("redis-cli", ["-p", String(redisPort), "set", "k", "v"], { encoding: "utf8" });
    expect(noAuth.stdout).toMatch(/NOAUTH/);
    const sts = findObject(renderRedis(redisConfig), "StatefulSet", "redis");
    const probe = (
      sts.spec as {
        template: { spec: { containers: { readinessProbe: { exec: { command: string[] } } }[] } };
      }
    ).template.spec.containers[0]?.readinessProbe.exec.command as string[];
    const r = spawnSync(
      probe[0] as string,
      [...probe.slice(1, -1), (probe.at(-1) as string).replace("6379", String(redisPort))],
      {
        env: { PATH: process.env.PATH ?? "", REDIS_PASSWORD: secrets.get(redisConfig.secretName)?.password },
        encoding: "utf8",
      },
    );
    expect(r.status, r.stderr).toBe(0);
  });
});

describe("Feast with the rendered feature_store.yaml", () => {
  it("feast apply registers the feature view in the SQL registry in Postgres", () => {
    const deploy = findObject(renderFeast(feastConfig()), "Deployment", "feast");
    const c = containerNamed(deploy, "feature-server");
    // The user's `feast apply` (in CI, from the feature repository) with the server's environment.
    const r = runToCompletion(
      { ...c, command: ["feast", "apply"] },
      { ...runOptions("apply-tmp"), cwd: path.join(work, "repo") },
    );
    expect(r.status, `${r.stdout}\n${r.stderr}`.slice(-3000)).toBe(0);
    const psql = spawnSync(
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
        "feast",
        "-d",
        "feast",
        "-c",
        "SELECT feature_view_name FROM feature_views",
      ],
      {
        env: { PGPASSWORD: secrets.get("postgres-feast-credentials")?.password, PATH: process.env.PATH },
        encoding: "utf8",
      },
    );
    expect(psql.stdout.trim()).toBe("driver_stats");
  });

  it("the materialisation CronJob's command loads the offline data into Redis", () => {
    const cron = findObject(renderFeast(feastConfig()), "CronJob", feastObjectNames(feastConfig()).cronJob);
    const r = runToCompletion(containerNamed(cron, "materialize"), runOptions("cron-tmp"));
    expect(r.status, `${r.stdout}\n${r.stderr}`.slice(-3000)).toBe(0);
    const keys = spawnSync(
      "redis-cli",
      [
        "-p",
        String(redisPort),
        "--no-auth-warning",
        "-a",
        secrets.get(redisConfig.secretName)?.password ?? "",
        "dbsize",
      ],
      {
        encoding: "utf8",
      },
    );
    expect(Number(keys.stdout.trim())).toBeGreaterThanOrEqual(2);
  });

  it("the feature server serves the materialised features online", async () => {
    const port = await freePort();
    const deploy = findObject(renderFeast(feastConfig()), "Deployment", "feast");
    server = startContainer(containerNamed(deploy, "feature-server"), {
      ...runOptions("server-tmp"),
      argOverrides: { "--port": String(port), "--host": "127.0.0.1" },
    });
    serverUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${serverUrl}/health`, server, 120_000);
    const res = await fetch(`${serverUrl}/get-online-features`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        features: ["driver_stats:conv_rate", "driver_stats:trips"],
        entities: { driver_id: [1001, 1002] },
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      metadata: { feature_names: string[] };
      results: { values: unknown[] }[];
    };
    const col = (name: string) => body.results[body.metadata.feature_names.indexOf(name)]?.values;
    expect(col("trips")).toEqual([30, 20]);
    expect((col("conv_rate") as number[]).map((x) => Math.round(x * 100) / 100)).toEqual([0.25, 0.75]);
  });

  it("the feature server exposes Prometheus metrics on the rendered metrics port", async () => {
    const deploy = findObject(renderFeast(feastConfig()), "Deployment", "feast") as {
      spec?: { template: { spec: { containers: { ports: { name: string; containerPort: number }[] }[] } } };
    };
    const port = deploy.spec?.template.spec.containers[0]?.ports.find(
      (p) => p.name === "metrics",
    )?.containerPort;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^# (HELP|TYPE) feast_/m);
  });
});

describe("runtime featureStore trigger on Feast's SQL registry", () => {
  it("a changed feature view (feast apply) starts one run; polling again starts none", async () => {
    const db = await openPglite();
    await migrate(db);
    const engine = new Engine({ db, executor: new LocalExecutor(path.join(work, "attempts")) });
    await engine.applyPipeline(
      parsePipelineObject({
        apiVersion: "mlops-platform.io/v1",
        kind: "Pipeline",
        metadata: { name: "features" },
        spec: {
          triggers: [{ type: "featureStore", featureViews: ["driver_stats"], pollSeconds: 5 }],
          steps: [{ name: "noop", image: "busybox:1", command: ["true"] }],
        },
      }),
      "test",
    );
    const creds = secrets.get("postgres-feast-credentials") as Record<string, string>;
    const registry = await openPostgres(
      `postgresql://${creds.username}:${creds.password}@${creds.host}:${creds.port}/${creds.database}`,
    );
    let now = Date.now();
    const poll = () => {
      now += 10_000;
      return new Pollers({ db, engine, feastRegistry: registry, now: () => new Date(now) }).pollAll();
    };
    try {
      await poll(); // first sight
      expect((await engine.listRuns()).length).toBe(0);
      writeFileSync(
        path.join(work, "repo", "features.py"),
        FEATURES.replace("timedelta(days=3650)", "timedelta(days=3000)"),
      );
      const deploy = findObject(renderFeast(feastConfig()), "Deployment", "feast");
      const apply = runToCompletion(
        { ...containerNamed(deploy, "feature-server"), command: ["feast", "apply"] },
        { ...runOptions("apply-tmp"), cwd: path.join(work, "repo") },
      );
      expect(apply.status, apply.stderr).toBe(0);
      await poll();
      await poll();
      const runs = await engine.listRuns();
      expect(runs.length).toBe(1);
      expect(runs[0]?.trigger).toMatchObject({ source: "featureStore", featureView: "driver_stats" });
    } finally {
      await registry.close();
      await db.close();
    }
  });
});
