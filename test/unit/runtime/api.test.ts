import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run as cli } from "../../../runtime/src/cli/mlops";
import { type RuntimeProcess, serve } from "../../../runtime/src/serve";
import { Pollers } from "../../../runtime/src/triggers/pollers";

/** The runtime as a process would run it (embedded PGlite, local executor), driven over HTTP and the CLI. */
const ADMIN = "mlops_admin-test-token-0123456789";
const GIT_SECRET = "git-hmac-secret";
let rt: RuntimeProcess;
let work: string;
const tokens: Record<string, string> = {};

const PIPELINE = `apiVersion: mlops-platform.io/v1
kind: Pipeline
metadata: { name: train }
spec:
  params: { model: churn }
  triggers:
    - { type: manual }
    - { type: git, secretEnv: GIT_SECRET, branches: [main] }
    - { type: alert, alertnames: [ModelDrift] }
    - { type: schedule, cron: "*/5 * * * *" }
  steps:
    - { name: prepare, image: "busybox:1", command: [sh, -c, "echo preparing $MLOPS_PARAM_MODEL"] }
    - { name: gate, kind: approval, dependsOn: [prepare] }
    - { name: train, image: "busybox:1", command: [sh, -c, "echo trained"], dependsOn: [gate] }
`;

async function call(
  method: string,
  p: string,
  opts: { token?: string; body?: string; headers?: Record<string, string> } = {},
) {
  const res = await fetch(`${rt.url}${p}`, {
    method,
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.headers ?? {}) },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    json: (() => {
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    })(),
  };
}

async function mlops(argv: string[], token = tokens.operator) {
  const lines: string[] = [];
  const code = await cli(argv, {
    env: { MLOPS_URL: rt.url, MLOPS_TOKEN: token },
    out: (l) => lines.push(l),
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 50))),
  });
  return { code, lines };
}

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "mlops-api-"));
  rt = await serve(
    {
      MLOPS_DATA_DIR: "memory",
      MLOPS_LISTEN: "127.0.0.1:0",
      MLOPS_ADMIN_TOKEN: ADMIN,
      MLOPS_WORK_DIR: path.join(work, "attempts"),
      GIT_SECRET,
    },
    () => undefined,
  );
  for (const role of ["viewer", "operator", "approver"]) {
    const r = await call("POST", "/api/v1/tokens", {
      token: ADMIN,
      body: JSON.stringify({ name: role, role }),
      headers: { "content-type": "application/json" },
    });
    expect(r.status).toBe(201);
    tokens[role] = r.json.token;
  }
  writeFileSync(path.join(work, "pipeline.yaml"), PIPELINE);
}, 60_000);

afterAll(async () => {
  await rt?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("runtime API", () => {
  it("authenticates with hashed bearer tokens and enforces roles", async () => {
    expect((await call("GET", "/api/v1/runs")).status).toBe(401);
    expect((await call("GET", "/api/v1/runs", { token: "mlops_wrong" })).status).toBe(401);
    expect((await call("GET", "/api/v1/runs", { token: tokens.viewer })).status).toBe(200);
    const forbidden = await call("PUT", "/api/v1/pipelines", { token: tokens.viewer, body: PIPELINE });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error.message).toMatch(/token "viewer" has role viewer, which may not write/);
    const stored = await rt.db.query<{ hash: string }>("SELECT hash FROM api_tokens");
    expect(stored.some((r) => r.hash === tokens.viewer)).toBe(false);
    expect((await call("POST", "/api/v1/tokens", { token: tokens.operator, body: "{}" })).status).toBe(403);
  });

  it("refuses bad specs and requests with 4xx naming the field and the fix", async () => {
    const bad = await call("PUT", "/api/v1/pipelines", {
      token: tokens.operator,
      body: PIPELINE.replace("dependsOn: [gate]", "dependsOn: [gates]"),
      headers: { "content-type": "application/yaml" },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.problems[0]).toMatchObject({
      file: "request body",
      path: "spec.steps[2].dependsOn[0]",
      line: 14,
      fix: "use one of prepare, gate, train.",
    });
    expect(
      (
        await call("PUT", "/api/v1/pipelines", {
          token: tokens.operator,
          body: "{not json",
          headers: { "content-type": "application/json" },
        })
      ).json.error.message,
    ).toMatch(/not valid JSON/);
    expect((await call("GET", "/api/v1/nothing", { token: tokens.viewer })).status).toBe(404);
    expect((await call("DELETE", "/api/v1/runs", { token: tokens.viewer })).status).toBe(405);
    expect((await call("GET", "/api/v1/runs?limit=0", { token: tokens.viewer })).json.error.message).toBe(
      "limit must be a whole number from 1 to 1000.",
    );
    expect((await call("POST", "/api/v1/pipelines/nope/runs", { token: tokens.operator })).status).toBe(404);
    const cliBad = await mlops(["apply", "-f", path.join(work, "missing.yaml")]).catch(
      (e: Error) => e.message,
    );
    expect(cliBad).toMatch(/cannot read .*missing.yaml/);
  });

  it("CLI: apply, trigger with progress, approve, logs; an idempotency key makes a retried trigger safe", async () => {
    expect((await mlops(["apply", "-f", path.join(work, "pipeline.yaml")])).lines).toEqual([
      "pipeline train: version 1 (applied)",
    ]);
    expect((await mlops(["apply", "-f", path.join(work, "pipeline.yaml")])).lines).toEqual([
      "pipeline train: version 1 (unchanged)",
    ]);
    const first = await mlops(["trigger", "train", "--param", "model=fraud", "--idempotency-key", "k-1"]);
    const runId = first.lines[0]?.split(" ")[1] as string;
    expect((await mlops(["trigger", "train", "--idempotency-key", "k-1"])).lines[0]).toBe(
      `run ${runId} already exists for this idempotency key`,
    );
    // The approver approves once the gate waits; `trigger --wait`-style progress via `runs <id>`.
    for (const end = Date.now() + 30_000; Date.now() < end; ) {
      const r = await call("GET", `/api/v1/runs/${runId}`, { token: tokens.viewer });
      if (r.json.steps[1].state === "waiting") break;
      await new Promise((res) => setTimeout(res, 25));
    }
    expect(
      (
        await call("POST", `/api/v1/runs/${runId}/steps/gate/approval`, {
          token: tokens.operator,
          body: '{"decision":"approved"}',
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call("POST", `/api/v1/runs/${runId}/steps/gate/approval`, {
          token: tokens.approver,
          body: '{"decision":"yes"}',
        })
      ).json.error.message,
    ).toMatch(/send \{"decision": "approved"\}/);
    expect((await mlops(["approve", runId, "gate", "--comment", "ok"], tokens.approver)).code).toBe(0);
    // `trigger --wait` prints each step's progress until the run ends; the approver rejects its gate.
    const waiting = mlops(["trigger", "train", "--wait"]);
    let second: { id: string } | undefined;
    for (const end = Date.now() + 30_000; !second && Date.now() < end; ) {
      const list = await call("GET", "/api/v1/runs?pipeline=train&state=running", { token: tokens.viewer });
      for (const r of list.json.runs) {
        const full = await call("GET", `/api/v1/runs/${r.id}`, { token: tokens.viewer });
        if (r.id !== runId && full.json.steps[1].state === "waiting") second = r;
      }
      await new Promise((res) => setTimeout(res, 25));
    }
    expect((await mlops(["reject", second?.id as string, "gate"], tokens.approver)).code).toBe(0);
    const waited = await waiting;
    expect(waited.code).toBe(1);
    expect(waited.lines).toEqual(
      expect.arrayContaining([
        "  prepare: succeeded",
        "  gate: waiting",
        "  gate: failed - rejected by token:approver",
        "  train: skipped - a dependency did not succeed",
      ]),
    );
    expect(waited.lines.at(-1)).toBe(`run ${second?.id}: failed - steps not succeeded: gate, train`);
    const logs = await mlops(["logs", runId, "prepare"], tokens.viewer);
    expect(logs.lines).toEqual(["preparing fraud"]);
    const shown = await mlops(["runs", runId], tokens.viewer);
    expect(shown.lines[0]).toBe(`run ${runId} (train): succeeded`);
    const events = await call("GET", `/api/v1/runs/${runId}/events`, { token: tokens.viewer });
    expect(events.json.events.find((e: { entity: string }) => e.entity === "approval")).toMatchObject({
      actor: "token:approver",
      to_state: "approved",
    });
  }, 60_000);

  it("git webhook: HMAC verified, branch filtered, a redelivery starts nothing new", async () => {
    const body = JSON.stringify({ ref: "refs/heads/main", after: "abc123" });
    const sig = `sha256=${createHmac("sha256", GIT_SECRET).update(body).digest("hex")}`;
    const hook = (s: string, b = body, delivery = "d-1") =>
      call("POST", "/api/v1/hooks/git/train", {
        body: b,
        headers: { "x-hub-signature-256": s, "x-github-delivery": delivery },
      });
    expect((await hook(`sha256=${"0".repeat(64)}`)).status).toBe(401);
    const ok = await hook(sig);
    expect(ok.status).toBe(201);
    const again = await hook(sig);
    expect(again.status).toBe(200);
    expect(again.json.runId).toBe(ok.json.runId);
    const other = JSON.stringify({ ref: "refs/heads/feature", after: "def" });
    const ignored = await hook(
      `sha256=${createHmac("sha256", GIT_SECRET).update(other).digest("hex")}`,
      other,
      "d-2",
    );
    expect(ignored.json).toEqual({ ignored: 'branch "feature" is not watched' });
  });

  it("Alertmanager webhook: one run per firing alert, resolved and other alerts ignored", async () => {
    const payload = {
      alerts: [
        {
          status: "firing",
          labels: { alertname: "ModelDrift" },
          startsAt: "2026-11-23T10:00:00Z",
          fingerprint: "f1",
        },
        {
          status: "resolved",
          labels: { alertname: "ModelDrift" },
          startsAt: "2026-11-23T09:00:00Z",
          fingerprint: "f0",
        },
        {
          status: "firing",
          labels: { alertname: "DiskFull" },
          startsAt: "2026-11-23T10:00:00Z",
          fingerprint: "f2",
        },
      ],
    };
    const r = await call("POST", "/api/v1/hooks/alertmanager/train", {
      token: tokens.operator,
      body: JSON.stringify(payload),
    });
    expect(r.status).toBe(201);
    expect(r.json.runs.length).toBe(1);
    const again = await call("POST", "/api/v1/hooks/alertmanager/train", {
      token: tokens.operator,
      body: JSON.stringify(payload),
    });
    expect(again.json.runs).toEqual([{ runId: r.json.runs[0].runId, created: false }]);
  });

  it("schedule trigger: first sight records now; each due time fires once, even when polled twice", async () => {
    let now = new Date("2026-11-23T10:01:00Z");
    const pollers = new Pollers({ db: rt.db, engine: rt.engine, now: () => now });
    const before = (await rt.engine.listRuns({ pipeline: "train" })).length;
    await pollers.pollAll();
    expect((await rt.engine.listRuns({ pipeline: "train" })).length).toBe(before);
    now = new Date("2026-11-23T10:12:00Z"); // 10:05 and 10:10 were due: one run for 10:10
    await pollers.pollAll();
    await new Pollers({ db: rt.db, engine: rt.engine, now: () => now }).pollAll(); // a second replica's poll
    const runs = await rt.engine.listRuns({ pipeline: "train" });
    expect(runs.length).toBe(before + 1);
    expect(runs[0]?.trigger).toMatchObject({ source: "schedule", scheduledFor: "2026-11-23T10:10:00.000Z" });
  });

  it("serves /metrics, /healthz, /readyz and an OpenAPI document of every route", async () => {
    const m = await call("GET", "/metrics");
    expect(m.text).toMatch(/^mlops_runs\{state="succeeded"\} [1-9]/m);
    expect(m.text).toMatch(/^mlops_queue_depth\{kind="runs"\} \d+/m);
    expect(m.text).toMatch(/^mlops_step_duration_seconds_bucket/m);
    expect(m.text).toMatch(/^mlops_dispatch_latency_seconds_count [1-9]/m);
    expect((await call("GET", "/healthz")).status).toBe(200);
    expect((await call("GET", "/readyz")).json).toEqual({ ok: true, leader: true });
    const doc = (await call("GET", "/openapi.json")).json;
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toContain("/api/v1/runs/{id}/steps/{step}/approval");
  });
});
