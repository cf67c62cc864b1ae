import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../runtime/src/engine/engine";
import { LocalExecutor } from "../../runtime/src/executors/local";
import { parsePipelineObject } from "../../runtime/src/spec";
import { type Db, openPglite } from "../../runtime/src/store/db";
import { migrate } from "../../runtime/src/store/migrations";
import { Pollers } from "../../runtime/src/triggers/pollers";
import { type LocalS3, startS3 } from "../helpers/moto";
import { freePort } from "../helpers/postgres";
import { type RunningContainer, startContainer, venvBin, waitForHttp } from "../helpers/rendered";

/**
 * The polling triggers against real servers: an S3-compatible store (moto) for objectStore
 * triggers, and `mlflow server` for new model versions. Time is the pollers' own clock, so the
 * debounce is shown without waiting for it.
 */
let s3: LocalS3;
let mlflow: RunningContainer;
let mlflowUrl: string;
let db: Db;
let engine: Engine;
let work: string;
let now = new Date("2026-11-23T12:00:00Z");

const aws = (...args: string[]) =>
  spawnSync(`${venvBin("s3")}/aws`, ["--endpoint-url", s3.endpoint, ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_DEFAULT_REGION: "us-east-1",
    },
    encoding: "utf8",
  });

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "mlops-triggers-"));
  const port = await freePort();
  [s3] = await Promise.all([startS3()]);
  mlflow = startContainer(
    {
      name: "mlflow",
      command: [
        `${venvBin("mlflow")}/mlflow`,
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        String(port),
        "--backend-store-uri",
        `sqlite:///${work}/mlflow.db`,
        "--workers",
        "1",
      ],
    },
    { secrets: new Map(), envOverrides: { HOME: work, MLFLOW_DISABLE_TELEMETRY: "true" } },
  );
  mlflowUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${mlflowUrl}/health`, mlflow, 120_000);
  db = await openPglite();
  await migrate(db);
  engine = new Engine({ db, executor: new LocalExecutor(path.join(work, "attempts")) });
  await engine.applyPipeline(
    parsePipelineObject({
      apiVersion: "mlops-platform.io/v1",
      kind: "Pipeline",
      metadata: { name: "retrain" },
      spec: {
        triggers: [
          { type: "objectStore", bucket: "landing", prefix: "churn/", debounceSeconds: 60, pollSeconds: 5 },
          { type: "modelVersion", model: "churn", pollSeconds: 5 },
        ],
        steps: [{ name: "noop", image: "busybox:1", command: ["true"] }],
      },
    }),
    "test",
  );
  expect(aws("s3api", "create-bucket", "--bucket", "landing").status).toBe(0);
}, 180_000);

afterAll(async () => {
  await mlflow?.stop();
  await s3?.stop();
  await db?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const pollers = () =>
  new Pollers({
    db,
    engine,
    now: () => now,
    objectStore: {
      endpoint: s3.endpoint,
      region: "us-east-1",
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    },
    mlflow: { trackingUri: mlflowUrl },
  });
const runsFrom = async (source: string) =>
  (await engine.listRuns({ pipeline: "retrain" })).filter(
    (r) => (r.trigger as { source: string }).source === source,
  );
const tick = async (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
  await pollers().pollAll();
};

describe("polling triggers on real servers", () => {
  it("objectStore: a change under the prefix starts one run once the listing has been still for debounceSeconds", async () => {
    const put = (key: string, body: string) => {
      const file = path.join(work, "obj");
      writeFileSync(file, body);
      expect(aws("s3api", "put-object", "--bucket", "landing", "--key", key, "--body", file).status).toBe(0);
    };
    put("churn/day-1.parquet", "a");
    await tick(0); // first sight: the present is the baseline
    await tick(10);
    expect(await runsFrom("objectStore")).toEqual([]);
    put("churn/day-2.parquet", "b");
    put("other/ignored.parquet", "c");
    await tick(10); // changed: debounce starts
    put("churn/day-2b.parquet", "d");
    await tick(10); // changed again: debounce restarts
    await tick(30);
    expect(await runsFrom("objectStore")).toEqual([]);
    await tick(35); // still for 65 s: fire
    await tick(10);
    await pollers().pollAll(); // a second replica's poll of the same listing
    const runs = await runsFrom("objectStore");
    expect(runs.length).toBe(1);
    expect(runs[0]?.trigger).toMatchObject({ bucket: "landing", prefix: "churn/" });
  });

  it("modelVersion: each new version of the watched model starts one run; a pipeline added later ignores existing versions", async () => {
    const api = (p: string, body: object) =>
      fetch(`${mlflowUrl}/api/2.0/mlflow/${p}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then((r) => r.json());
    // The first polls (above) saw no model: every version from now on is new.
    await api("registered-models/create", { name: "churn" });
    await api("model-versions/create", { name: "churn", source: "s3://b/m1" });
    await tick(10);
    await api("model-versions/create", { name: "churn", source: "s3://b/m2" });
    await api("model-versions/create", { name: "churn", source: "s3://b/m3" });
    await tick(10);
    await tick(10);
    const runs = await runsFrom("modelVersion");
    expect(runs.map((r) => (r.trigger as { version: string }).version).sort()).toEqual(["1", "2", "3"]);
    // A pipeline applied now takes versions 1-3 as the present and fires only for version 4.
    await engine.applyPipeline(
      parsePipelineObject({
        apiVersion: "mlops-platform.io/v1",
        kind: "Pipeline",
        metadata: { name: "late" },
        spec: {
          triggers: [{ type: "modelVersion", model: "churn", pollSeconds: 5 }],
          steps: [{ name: "noop", image: "busybox:1", command: ["true"] }],
        },
      }),
      "test",
    );
    await tick(10);
    expect((await engine.listRuns({ pipeline: "late" })).length).toBe(0);
    await api("model-versions/create", { name: "churn", source: "s3://b/m4" });
    await tick(10);
    const late = await engine.listRuns({ pipeline: "late" });
    expect(late.map((r) => (r.trigger as { version: string }).version)).toEqual(["4"]);
  });
});
