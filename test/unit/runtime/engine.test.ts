import { mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Engine } from "../../../runtime/src/engine/engine";
import { LocalExecutor } from "../../../runtime/src/executors/local";
import { type Pipeline, parsePipelineObject } from "../../../runtime/src/spec";
import { type Db, openPglite } from "../../../runtime/src/store/db";
import { migrate } from "../../../runtime/src/store/migrations";

/** The engine on PGlite (in-process Postgres) with the local executor: real SQL, real processes. */
let db: Db;
let work: string;
const engines: Engine[] = [];

function engine(): Engine {
  const e = new Engine({ db, executor: new LocalExecutor(path.join(work, "attempts")), idleTickMs: 50 });
  engines.push(e);
  return e;
}

function pipeline(steps: object[], extra: object = {}): Pipeline {
  return parsePipelineObject({
    apiVersion: "mlops-platform.io/v1",
    kind: "Pipeline",
    metadata: { name: "demo" },
    spec: { params: { model: "m1" }, ...extra, steps },
  });
}
const sh = (name: string, script: string, more: object = {}) => ({
  name,
  image: "busybox:1",
  command: ["sh", "-c", script],
  ...more,
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const finished = (e: Engine, id: string) =>
  until(`run ${id} to finish`, async () => {
    const r = await e.getRun(id);
    return r && ["succeeded", "failed", "cancelled"].includes(r.state) ? r : undefined;
  });

beforeEach(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "mlops-engine-"));
  db = await openPglite();
  expect(await migrate(db)).toEqual([1]);
  expect(await migrate(db)).toEqual([]);
});

afterEach(async () => {
  for (const e of engines.splice(0)) await e.stop();
  await db.close();
  rmSync(work, { recursive: true, force: true });
});

describe("Engine", () => {
  it("runs a three-step DAG in order, passing params, and records every transition", async () => {
    const e = engine();
    await e.applyPipeline(
      pipeline([
        sh("a", 'echo "a for $MLOPS_PARAM_MODEL"'),
        sh("b", "echo b", { dependsOn: ["a"] }),
        sh("c", "echo c", { dependsOn: ["a", "b"] }),
      ]),
      "test",
    );
    e.start();
    const { runId } = await e.trigger("demo", {
      dedupeKey: "k1",
      source: "manual",
      actor: "test",
      params: { model: "m2" },
    });
    const run = await finished(e, runId);
    expect(run.state).toBe("succeeded");
    const order = run.steps.map((s) => s.started_at as Date).map((d) => new Date(d).getTime());
    expect(order[0]).toBeLessThanOrEqual(order[1] as number);
    expect(order[1]).toBeLessThanOrEqual(order[2] as number);
    expect((await e.logs(runId, "a"))[0]?.text).toBe("a for m2\n");
    const events = await e.events(runId);
    expect(events.filter((x) => x.entity === "run").map((x) => x.to_state)).toEqual([
      "queued",
      "running",
      "succeeded",
    ]);
    expect(events.filter((x) => x.entity === "step").length).toBe(6);
  });

  it("a trigger delivered twice starts one run", async () => {
    const e = engine();
    await e.applyPipeline(pipeline([sh("a", "true")]), "test");
    const first = await e.trigger("demo", { dedupeKey: "delivery-7", source: "git", actor: "webhook" });
    const again = await e.trigger("demo", { dedupeKey: "delivery-7", source: "git", actor: "webhook" });
    expect(first.created).toBe(true);
    expect(again).toEqual({ runId: first.runId, created: false });
    expect((await e.listRuns()).length).toBe(1);
  });

  it("retries with backoff, then fails the run and skips dependants", async () => {
    const e = engine();
    await e.applyPipeline(
      pipeline([
        sh("flaky", "echo try; exit 3", { retries: { limit: 1, backoffSeconds: 0 } }),
        sh("after", "true", { dependsOn: ["flaky"] }),
      ]),
      "test",
    );
    e.start();
    const { runId } = await e.trigger("demo", { dedupeKey: "r", source: "manual", actor: "t" });
    const run = await finished(e, runId);
    expect(run.state).toBe("failed");
    expect(run.steps.map((s) => [s.name, s.state, s.attempt, s.exit_code])).toEqual([
      ["flaky", "failed", 2, 3],
      ["after", "skipped", 0, null],
    ]);
    expect(run.message).toBe("steps not succeeded: after, flaky");
    expect((await e.logs(runId, "flaky")).map((l) => l.attempt)).toEqual([1, 2]);
  });

  it("times a step out", async () => {
    const e = engine();
    await e.applyPipeline(pipeline([sh("slow", "sleep 30", { timeoutSeconds: 1 })]), "test");
    e.start();
    const { runId } = await e.trigger("demo", { dedupeKey: "t", source: "manual", actor: "t" });
    const run = await finished(e, runId);
    expect(run.steps[0]?.message).toBe("attempt 1 timed out after 1 s");
  });

  it("waits at an approval gate until approved; a rejection fails the run", async () => {
    const e = engine();
    await e.applyPipeline(
      pipeline([{ name: "gate", kind: "approval" }, sh("ship", "true", { dependsOn: ["gate"] })]),
      "test",
    );
    e.start();
    const a = await e.trigger("demo", { dedupeKey: "a", source: "manual", actor: "t" });
    await until("gate waiting", async () =>
      (await e.getRun(a.runId))?.steps[0]?.state === "waiting" ? true : undefined,
    );
    await expect(e.decide(a.runId, "ship", "approved", "alice")).rejects.toThrow(
      /is a container step, not an approval/,
    );
    await e.decide(a.runId, "gate", "approved", "alice", "looks good");
    await expect(e.decide(a.runId, "gate", "approved", "bob")).rejects.toThrow(
      /not waiting|already has a decision/,
    );
    expect((await finished(e, a.runId)).state).toBe("succeeded");
    const b = await e.trigger("demo", { dedupeKey: "b", source: "manual", actor: "t" });
    await until("gate waiting", async () =>
      (await e.getRun(b.runId))?.steps[0]?.state === "waiting" ? true : undefined,
    );
    await e.decide(b.runId, "gate", "rejected", "alice");
    const rb = await finished(e, b.runId);
    expect(rb.steps.map((s) => s.state)).toEqual(["failed", "skipped"]);
    expect(rb.steps[0]?.message).toBe("rejected by alice");
  });

  it("concurrency: queue runs one run per key at a time; replace cancels the run in flight", async () => {
    const e = engine();
    await e.applyPipeline(
      pipeline([sh("work", "sleep 0.3")], { concurrency: { key: "model", policy: "queue" } }),
      "test",
    );
    e.start();
    const r1 = await e.trigger("demo", { dedupeKey: "q1", source: "manual", actor: "t" });
    const r2 = await e.trigger("demo", { dedupeKey: "q2", source: "manual", actor: "t" });
    const other = await e.trigger("demo", {
      dedupeKey: "q3",
      source: "manual",
      actor: "t",
      params: { model: "m9" },
    });
    const [a, b, c] = [
      await finished(e, r1.runId),
      await finished(e, r2.runId),
      await finished(e, other.runId),
    ];
    expect([a.state, b.state, c.state]).toEqual(["succeeded", "succeeded", "succeeded"]);
    expect(new Date(b.started_at as Date).getTime()).toBeGreaterThanOrEqual(
      new Date(a.finished_at as Date).getTime(),
    );
    expect(new Date(c.started_at as Date).getTime()).toBeLessThan(new Date(a.finished_at as Date).getTime());

    await e.applyPipeline(
      pipeline([sh("work", "sleep 5")], { concurrency: { key: "model", policy: "replace" } }),
      "test",
    );
    const x = await e.trigger("demo", { dedupeKey: "x1", source: "manual", actor: "t" });
    await until("x running", async () =>
      (await e.getRun(x.runId))?.steps[0]?.state === "running" ? true : undefined,
    );
    const y = await e.trigger("demo", { dedupeKey: "x2", source: "manual", actor: "t" });
    const rx = await finished(e, x.runId);
    expect(rx.state).toBe("cancelled");
    expect(rx.message).toBe(`replaced by run ${y.runId}`);
    await e.cancel(y.runId, "t");
  });

  it("after a crash, a new engine adopts the step in flight instead of starting it again", async () => {
    const first = engine();
    await first.applyPipeline(
      pipeline([
        sh("long", "echo started >> $MLOPS_ATTEMPT_DIR/../starts; sleep 1"),
        sh("next", "true", { dependsOn: ["long"] }),
      ]),
      "test",
    );
    first.start();
    const { runId } = await first.trigger("demo", { dedupeKey: "c", source: "manual", actor: "t" });
    await until("long running", async () =>
      (await first.getRun(runId))?.steps[0]?.state === "running" ? true : undefined,
    );
    await first.stop(); // the process "dies": its loop ends, the step's process keeps running
    const second = engine();
    second.start();
    const run = await finished(second, runId);
    expect(run.state).toBe("succeeded");
    expect(run.steps[0]?.attempt).toBe(1);
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(path.join(work, "attempts", "starts"), "utf8")).toBe("started\n");
  });

  it("rejects unknown pipelines and parameters with a clear message", async () => {
    const e = engine();
    await expect(e.trigger("nope", { dedupeKey: "n", source: "manual", actor: "t" })).rejects.toThrow(
      /no pipeline "nope". Fix: apply it first/,
    );
    await e.applyPipeline(pipeline([sh("a", "true")]), "test");
    await expect(
      e.trigger("demo", { dedupeKey: "n", source: "manual", actor: "t", params: { epochs: "3" } }),
    ).rejects.toThrow(/params "epochs" are not parameters of pipeline "demo" \(it has: model\)/);
  });
});
