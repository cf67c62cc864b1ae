import { randomBytes } from "node:crypto";
import type { Executor, StepLaunch } from "../executors/executor";
import type { Pipeline, Step } from "../spec";
import type { Db, Queryable } from "../store/db";
import { RuntimeMetrics } from "./metrics";

export type RunState = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export type StepState =
  | "pending"
  | "starting"
  | "running"
  | "waiting"
  | "succeeded"
  | "failed"
  | "skipped"
  | "cancelled";
const TERMINAL_STEP: readonly StepState[] = ["succeeded", "failed", "skipped", "cancelled"];

export interface RunRow {
  id: string;
  pipeline: string;
  pipeline_version: number;
  spec: Pipeline;
  state: RunState;
  concurrency_key: string;
  params: Record<string, string>;
  trigger: Record<string, unknown>;
  message: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface StepRow {
  run_id: string;
  name: string;
  kind: string;
  state: StepState;
  attempt: number;
  executor_name: string | null;
  not_before: Date;
  started_at: Date | null;
  finished_at: Date | null;
  exit_code: number | null;
  message: string | null;
}

/** A trigger delivery: who asked, with what parameters, and the key that makes it exactly-once. */
export interface TriggerRequest {
  /** Same key, same run: a delivery seen before starts nothing. */
  readonly dedupeKey: string;
  readonly source: string;
  readonly params?: Readonly<Record<string, string>>;
  readonly detail?: Readonly<Record<string, unknown>>;
  readonly actor: string;
}

export class EngineError extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = "EngineError";
  }
}

export interface EngineOptions {
  readonly db: Db;
  readonly executor: Executor;
  /** Who this process is, in the audit log. @default "engine" */
  readonly identity?: string;
  /** Longest wait between passes when nothing wakes the engine. @default 1000 */
  readonly idleTickMs?: number;
  readonly log?: (line: string) => void;
  readonly metrics?: RuntimeMetrics;
}

const LEADER_LOCK = 727_002;

/** JSON with object keys sorted (jsonb does not keep key order), for comparing specs. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The deterministic executor name of one attempt (see StepLaunch.name). */
export function attemptName(pipeline: string, runId: string, step: string, attempt: number): string {
  return `${pipeline}-${runId}-${step}-${attempt}`;
}

/** Seconds to wait before attempt `attempt + 1` after attempt `attempt` failed. */
export function backoffSeconds(step: Step, attempt: number): number {
  const r = step.retries;
  return Math.min(r.maxBackoffSeconds, r.backoffSeconds * r.factor ** Math.max(0, attempt - 1));
}

async function audit(
  q: Queryable,
  actor: string,
  entity: "pipeline" | "run" | "step" | "trigger" | "approval",
  id: string,
  from: string | null,
  to: string | null,
  detail?: Record<string, unknown>,
) {
  await q.query(
    "INSERT INTO audit_log (actor, entity, entity_id, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    [actor, entity, id, from, to, detail ? JSON.stringify(detail) : null],
  );
}

/**
 * The durable pipeline engine. All state lives in the database; the engine holds none that a
 * restart would lose. One process (the leader, by advisory lock) drives runs; every process may
 * accept triggers, approvals and cancellations, which are plain transactional writes.
 *
 * A pass: (1) look at attempts in flight (executor status, timeouts, approvals); (2) start queued
 * runs their concurrency policy allows; (3) claim and start ready steps; (4) finish runs whose
 * steps are all done. Claims are conditional updates, so a step attempt is started once; the
 * executor adopts an existing object of the attempt's name, so a crash between the claim and the
 * start never makes two.
 */
export class Engine {
  readonly #db: Db;
  readonly #executor: Executor;
  readonly #identity: string;
  readonly #idleTickMs: number;
  readonly #log: (line: string) => void;
  readonly metrics: RuntimeMetrics;
  #running = false;
  #wake: (() => void) | undefined;
  #woken = false;
  #loop: Promise<void> | undefined;
  #leader = false;

  constructor(opts: EngineOptions) {
    this.#db = opts.db;
    this.#executor = opts.executor;
    this.#identity = opts.identity ?? "engine";
    this.#idleTickMs = opts.idleTickMs ?? 1000;
    this.#log = opts.log ?? (() => undefined);
    this.metrics = opts.metrics ?? new RuntimeMetrics();
    this.#executor.onChange(() => this.wake());
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Creates or updates a pipeline; returns its version (unchanged specs keep theirs). */
  async applyPipeline(spec: Pipeline, actor: string): Promise<{ version: number; changed: boolean }> {
    return this.#db.tx(async (q) => {
      const [cur] = await q.query<{ version: number; spec: Pipeline }>(
        "SELECT version, spec FROM pipelines WHERE name = $1 FOR UPDATE",
        [spec.name],
      );
      if (cur && canonical(cur.spec) === canonical(spec)) return { version: cur.version, changed: false };
      const version = (cur?.version ?? 0) + 1;
      await q.query(
        "INSERT INTO pipelines (name, version, spec) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET version = $2, spec = $3, updated_at = now()",
        [spec.name, version, JSON.stringify(spec)],
      );
      await audit(q, actor, "pipeline", spec.name, cur ? `v${cur.version}` : null, `v${version}`);
      return { version, changed: true };
    });
  }

  async getPipeline(name: string): Promise<{ name: string; version: number; spec: Pipeline } | undefined> {
    const [row] = await this.#db.query<{ name: string; version: number; spec: Pipeline }>(
      "SELECT name, version, spec FROM pipelines WHERE name = $1",
      [name],
    );
    return row;
  }

  async listPipelines() {
    return this.#db.query<{ name: string; version: number; updated_at: Date }>(
      "SELECT name, version, updated_at FROM pipelines ORDER BY name",
    );
  }

  /**
   * Records a trigger delivery and creates its run, exactly once per `dedupeKey`: a delivery seen
   * before (a webhook retried, two replicas polling the same bucket) returns the existing run.
   */
  async trigger(pipelineName: string, req: TriggerRequest): Promise<{ runId: string; created: boolean }> {
    const out = await this.#db.tx(async (q) => {
      const [pipe] = await q.query<{ version: number; spec: Pipeline }>(
        "SELECT version, spec FROM pipelines WHERE name = $1",
        [pipelineName],
      );
      if (!pipe)
        throw new EngineError(
          404,
          `no pipeline "${pipelineName}". Fix: apply it first (mlops apply -f <file>).`,
        );
      const unknown = Object.keys(req.params ?? {}).filter((k) => pipe.spec.params[k] === undefined);
      if (unknown.length > 0)
        throw new EngineError(
          400,
          `params ${unknown.map((k) => `"${k}"`).join(", ")} are not parameters of pipeline "${pipelineName}" (it has: ${Object.keys(pipe.spec.params).join(", ") || "none"}). Fix: declare them in spec.params or leave them out.`,
        );
      const fresh = await q.query(
        "INSERT INTO trigger_deliveries (dedupe_key, pipeline) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING dedupe_key",
        [req.dedupeKey, pipelineName],
      );
      if (fresh.length === 0) {
        const [seen] = await q.query<{ run_id: string; pipeline: string }>(
          "SELECT run_id, pipeline FROM trigger_deliveries WHERE dedupe_key = $1",
          [req.dedupeKey],
        );
        return { runId: seen?.run_id ?? "", created: false };
      }
      const runId = randomBytes(6).toString("hex");
      const params = { ...pipe.spec.params, ...(req.params ?? {}) };
      const keyParam = pipe.spec.concurrency.key;
      const concurrencyKey = `${pipelineName}/${keyParam ? params[keyParam] : "*"}`;
      await q.query(
        "INSERT INTO runs (id, pipeline, pipeline_version, spec, state, concurrency_key, params, trigger) VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7)",
        [
          runId,
          pipelineName,
          pipe.version,
          JSON.stringify(pipe.spec),
          concurrencyKey,
          JSON.stringify(params),
          JSON.stringify({ source: req.source, dedupeKey: req.dedupeKey, ...(req.detail ?? {}) }),
        ],
      );
      for (const s of pipe.spec.steps)
        await q.query("INSERT INTO steps (run_id, name, kind, state) VALUES ($1, $2, $3, 'pending')", [
          runId,
          s.name,
          s.kind,
        ]);
      await q.query("UPDATE trigger_deliveries SET run_id = $1 WHERE dedupe_key = $2", [
        runId,
        req.dedupeKey,
      ]);
      await audit(q, req.actor, "trigger", req.dedupeKey, null, "accepted", {
        source: req.source,
        run: runId,
      });
      await audit(q, req.actor, "run", runId, null, "queued", { source: req.source });
      return { runId, created: true };
    });
    if (out.created) this.metrics.triggers.inc({ source: req.source, result: "created" });
    else this.metrics.triggers.inc({ source: req.source, result: "duplicate" });
    this.wake();
    return out;
  }

  async getRun(id: string): Promise<(RunRow & { steps: StepRow[] }) | undefined> {
    const [run] = await this.#db.query<RunRow>("SELECT * FROM runs WHERE id = $1", [id]);
    if (!run) return undefined;
    const steps = await this.#db.query<StepRow>("SELECT * FROM steps WHERE run_id = $1", [id]);
    const order = new Map(run.spec.steps.map((s, i) => [s.name, i]));
    steps.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
    return { ...run, steps };
  }

  async listRuns(filter: { pipeline?: string; state?: string; limit?: number } = {}) {
    return this.#db.query<Omit<RunRow, "spec">>(
      `SELECT id, pipeline, pipeline_version, state, concurrency_key, params, trigger, message, created_at, started_at, finished_at FROM runs
       WHERE ($1::text IS NULL OR pipeline = $1) AND ($2::text IS NULL OR state = $2) ORDER BY created_at DESC LIMIT $3`,
      [filter.pipeline ?? null, filter.state ?? null, filter.limit ?? 100],
    );
  }

  async events(runId: string) {
    return this.#db.query<{
      id: string;
      at: Date;
      actor: string;
      entity: string;
      entity_id: string;
      from_state: string | null;
      to_state: string | null;
      detail: unknown;
    }>(
      "SELECT * FROM audit_log WHERE (entity = 'run' AND entity_id = $1) OR (entity IN ('step', 'approval') AND entity_id LIKE $2) ORDER BY id",
      [runId, `${runId}/%`],
    );
  }

  /** The output of every attempt of a step so far (stored ones, then the live one from the executor). */
  async logs(runId: string, step: string): Promise<{ attempt: number; text: string }[]> {
    const run = await this.getRun(runId);
    if (!run) throw new EngineError(404, `no run "${runId}".`);
    const s = run.steps.find((x) => x.name === step);
    if (!s)
      throw new EngineError(
        404,
        `run ${runId} has no step "${step}" (it has: ${run.steps.map((x) => x.name).join(", ")}).`,
      );
    const stored = await this.#db.query<{ attempt: number; text: string }>(
      "SELECT attempt, string_agg(text, '' ORDER BY seq) AS text FROM step_logs WHERE run_id = $1 AND step = $2 GROUP BY attempt ORDER BY attempt",
      [runId, step],
    );
    if ((s.state === "running" || s.state === "starting") && s.executor_name)
      stored.push({ attempt: s.attempt, text: await this.#executor.logs(s.executor_name) });
    return stored;
  }

  async cancel(runId: string, actor: string): Promise<RunState> {
    const stop = await this.#db.tx(async (q) => {
      const [run] = await q.query<RunRow>("SELECT * FROM runs WHERE id = $1 FOR UPDATE", [runId]);
      if (!run) throw new EngineError(404, `no run "${runId}".`);
      if (run.state !== "queued" && run.state !== "running")
        throw new EngineError(
          409,
          `run ${runId} is already ${run.state}; only queued or running runs can be cancelled.`,
        );
      return this.#cancelRun(q, run, actor, `cancelled by ${actor}`);
    });
    await Promise.all(stop.map((n) => this.#executor.stop(n)));
    this.wake();
    return "cancelled";
  }

  async #cancelRun(
    q: Queryable,
    run: Pick<RunRow, "id" | "state">,
    actor: string,
    message: string,
  ): Promise<string[]> {
    await q.query(
      "UPDATE runs SET state = 'cancelled', message = $2, finished_at = clock_timestamp() WHERE id = $1",
      [run.id, message],
    );
    await audit(q, actor, "run", run.id, run.state, "cancelled", { message });
    const live = await q.query<StepRow>(
      "UPDATE steps SET state = 'cancelled', finished_at = clock_timestamp(), message = $2 WHERE run_id = $1 AND state IN ('pending','starting','running','waiting') RETURNING *",
      [run.id, message],
    );
    // Stopping an attempt that already ended (a pending retry's last one) is harmless.
    return live.filter((s) => s.executor_name).map((s) => s.executor_name as string);
  }

  /** Records an approval decision for a waiting approval step. */
  async decide(
    runId: string,
    step: string,
    decision: "approved" | "rejected",
    actor: string,
    comment?: string,
  ): Promise<void> {
    await this.#db.tx(async (q) => {
      const [s] = await q.query<StepRow>("SELECT * FROM steps WHERE run_id = $1 AND name = $2 FOR UPDATE", [
        runId,
        step,
      ]);
      if (!s) throw new EngineError(404, `run ${runId} has no step "${step}".`);
      if (s.kind !== "approval")
        throw new EngineError(400, `step "${step}" is a ${s.kind} step, not an approval.`);
      if (s.state !== "waiting")
        throw new EngineError(409, `step "${step}" is ${s.state}, not waiting for a decision.`);
      const inserted = await q.query(
        "INSERT INTO approvals (run_id, step, decision, actor, comment) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING step",
        [runId, step, decision, actor, comment ?? null],
      );
      if (inserted.length === 0) throw new EngineError(409, `step "${step}" already has a decision.`);
      await audit(
        q,
        actor,
        "approval",
        `${runId}/${step}`,
        null,
        decision,
        comment ? { comment } : undefined,
      );
    });
    this.wake();
  }

  /** Asks for a pass as soon as possible (coalesced). */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Starts the loop: tries to become the leader, then runs passes until `stop`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        // Every pass confirms the lock: a leader whose database connection dropped stands down.
        const was = this.#leader;
        this.#leader = await this.#db.tryLeaderLock(LEADER_LOCK);
        if (this.#leader && !was) this.#log(`engine ${this.#identity}: leader; resuming work in flight`);
        if (!this.#leader && was) this.#log(`engine ${this.#identity}: lost the leader lock; standing by`);
        if (this.#leader) {
          this.#woken = false;
          await this.tick();
        }
      } catch (err) {
        this.#log(`engine ${this.#identity}: pass failed: ${err instanceof Error ? err.stack : String(err)}`);
      }
      if (!this.#running) break;
      if (!this.#woken || !this.#leader)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.#leader ? this.#idleTickMs : 2000);
          this.#wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      this.#wake = undefined;
    }
  }

  /** One pass (exposed for tests). */
  async tick(): Promise<void> {
    await this.#observe();
    await this.#promote();
    await this.#dispatch();
    await this.#finish();
  }

  #launch(
    run: Pick<RunRow, "id" | "pipeline" | "params" | "spec">,
    step: Step & { kind: "container" },
    attempt: number,
  ): StepLaunch {
    return {
      name: attemptName(run.pipeline, run.id, step.name, attempt),
      pipeline: run.pipeline,
      runId: run.id,
      step: step.name,
      attempt,
      container: step.container,
      params: run.params,
      timeoutSeconds: step.timeoutSeconds,
    };
  }

  async #storeLogs(q: Queryable, s: StepRow): Promise<void> {
    if (!s.executor_name) return;
    const text = await this.#executor
      .logs(s.executor_name)
      .catch((err) => `(logs unavailable: ${err instanceof Error ? err.message : err})`);
    const chunks = text.match(/[\s\S]{1,65536}/g) ?? [];
    for (const [i, chunk] of chunks.entries())
      await q.query(
        "INSERT INTO step_logs (run_id, step, attempt, seq, text) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        [s.run_id, s.name, s.attempt, i, chunk],
      );
  }

  /** Ends an attempt: succeeded, or failed and retried while retries remain. */
  async #endAttempt(
    q: Queryable,
    run: RunRow,
    s: StepRow,
    ok: boolean,
    message: string | null,
    exitCode: number | null,
  ): Promise<void> {
    const step = run.spec.steps.find((x) => x.name === s.name) as Step;
    await this.#storeLogs(q, s);
    const seconds = s.started_at ? (Date.now() - new Date(s.started_at).getTime()) / 1000 : 0;
    this.metrics.stepDuration.observe({ kind: s.kind, result: ok ? "succeeded" : "failed" }, seconds);
    if (ok) {
      await q.query(
        "UPDATE steps SET state = 'succeeded', finished_at = clock_timestamp(), exit_code = $3, message = $4 WHERE run_id = $1 AND name = $2",
        [s.run_id, s.name, exitCode, message],
      );
      await audit(q, this.#identity, "step", `${s.run_id}/${s.name}`, s.state, "succeeded", {
        attempt: s.attempt,
      });
      return;
    }
    if (s.attempt <= step.retries.limit) {
      const wait = backoffSeconds(step, s.attempt);
      await q.query(
        "UPDATE steps SET state = 'pending', not_before = clock_timestamp() + make_interval(secs => $3), exit_code = $4, message = $5 WHERE run_id = $1 AND name = $2",
        [s.run_id, s.name, wait, exitCode, `attempt ${s.attempt} ${message}; retrying in ${wait} s`],
      );
      await audit(q, this.#identity, "step", `${s.run_id}/${s.name}`, s.state, "pending", {
        attempt: s.attempt,
        message,
        retryInSeconds: wait,
      });
      return;
    }
    await q.query(
      "UPDATE steps SET state = 'failed', finished_at = clock_timestamp(), exit_code = $3, message = $4 WHERE run_id = $1 AND name = $2",
      [s.run_id, s.name, exitCode, `attempt ${s.attempt} ${message}`],
    );
    await audit(q, this.#identity, "step", `${s.run_id}/${s.name}`, s.state, "failed", {
      attempt: s.attempt,
      message,
    });
  }

  /** (1) Attempts in flight: executor status, timeouts, approval decisions; adopt after a restart. */
  async #observe(): Promise<void> {
    const live = await this.#db.query<StepRow & { run: RunRow }>(
      "SELECT s.*, row_to_json(r.*) AS run FROM steps s JOIN runs r ON r.id = s.run_id WHERE s.state IN ('starting','running','waiting') AND r.state = 'running'",
    );
    for (const s of live) {
      try {
        await this.#observeOne(s);
      } catch (err) {
        // One attempt's executor error (an API hiccup, a permission problem) must not stall the others.
        this.#log(`engine: ${s.run_id}/${s.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  async #observeOne(s: StepRow & { run: RunRow }): Promise<void> {
    const run = s.run;
    const step = run.spec.steps.find((x) => x.name === s.name) as Step;
    const overdue =
      s.started_at !== null && Date.now() - new Date(s.started_at).getTime() > step.timeoutSeconds * 1000;
    if (step.kind === "approval") {
      const [d] = await this.#db.query<{ decision: string; actor: string }>(
        "SELECT decision, actor FROM approvals WHERE run_id = $1 AND step = $2",
        [s.run_id, s.name],
      );
      if (d || overdue)
        await this.#db.tx(async (q) => {
          const [cur] = await q.query<StepRow>(
            "SELECT * FROM steps WHERE run_id = $1 AND name = $2 AND state = 'waiting' FOR UPDATE",
            [s.run_id, s.name],
          );
          if (!cur) return;
          const ok = d?.decision === "approved";
          const message = d ? `${d.decision} by ${d.actor}` : `no decision within ${step.timeoutSeconds} s`;
          await q.query(
            `UPDATE steps SET state = $3, finished_at = clock_timestamp(), message = $4 WHERE run_id = $1 AND name = $2`,
            [s.run_id, s.name, ok ? "succeeded" : "failed", message],
          );
          await audit(
            q,
            this.#identity,
            "step",
            `${s.run_id}/${s.name}`,
            "waiting",
            ok ? "succeeded" : "failed",
            { message },
          );
        });
      return;
    }
    const name = s.executor_name as string;
    let status = await this.#executor.status(name);
    if (status.state === "missing" && s.state === "starting") {
      // Claimed but not started before a crash: start it now (adopts if it did start).
      const result = await this.#executor.start(
        this.#launch(run, step as Step & { kind: "container" }, s.attempt),
      );
      this.#log(`engine: ${name}: ${result} after a restart`);
      status = { state: "running" };
    }
    if (status.state === "running" && s.state === "starting")
      await this.#db.query(
        "UPDATE steps SET state = 'running', started_at = COALESCE(started_at, clock_timestamp()) WHERE run_id = $1 AND name = $2 AND state = 'starting'",
        [s.run_id, s.name],
      );
    if (status.state === "running" && overdue) {
      await this.#executor.stop(name);
      status = { state: "failed", message: `timed out after ${step.timeoutSeconds} s` };
    }
    if (status.state === "running") return;
    const ok = status.state === "succeeded";
    const message =
      status.state === "failed"
        ? status.message
        : status.state === "missing"
          ? "was lost (its executor object disappeared)"
          : null;
    const exitCode = status.state === "failed" ? (status.exitCode ?? null) : ok ? 0 : null;
    await this.#db.tx(async (q) => {
      const [cur] = await q.query<StepRow>(
        "SELECT * FROM steps WHERE run_id = $1 AND name = $2 AND attempt = $3 AND state IN ('starting','running') FOR UPDATE",
        [s.run_id, s.name, s.attempt],
      );
      if (cur) await this.#endAttempt(q, run, cur, ok, message, exitCode);
    });
  }

  /** (2) Start queued runs as their concurrency policy allows. */
  async #promote(): Promise<void> {
    const keys = await this.#db.query<{ concurrency_key: string }>(
      "SELECT DISTINCT concurrency_key FROM runs WHERE state = 'queued'",
    );
    for (const { concurrency_key: key } of keys) {
      const stop = await this.#db.tx(async (q) => {
        await q.query("SELECT pg_advisory_xact_lock(hashtext($1))", [key]);
        const active = await q.query<RunRow>(
          "SELECT * FROM runs WHERE concurrency_key = $1 AND state IN ('queued','running') ORDER BY created_at, id FOR UPDATE",
          [key],
        );
        const queued = active.filter((r) => r.state === "queued");
        const running = active.filter((r) => r.state === "running");
        if (queued.length === 0) return [];
        const newest = queued[queued.length - 1] as RunRow;
        const toStop: string[] = [];
        let next: RunRow | undefined;
        if (newest.spec.concurrency.policy === "replace") {
          for (const r of [...running, ...queued.slice(0, -1)])
            toStop.push(...(await this.#cancelRun(q, r, this.#identity, `replaced by run ${newest.id}`)));
          next = newest;
        } else if (running.length === 0) next = queued[0];
        if (next) {
          await q.query("UPDATE runs SET state = 'running', started_at = clock_timestamp() WHERE id = $1", [
            next.id,
          ]);
          await audit(q, this.#identity, "run", next.id, "queued", "running");
        }
        return toStop;
      });
      await Promise.all(stop.map((n) => this.#executor.stop(n)));
    }
  }

  /** (3) Claim ready steps of running runs and start them. */
  async #dispatch(): Promise<void> {
    const claimed = await this.#db.tx(async (q) => {
      const pending = await q.query<StepRow & { run: RunRow }>(
        `SELECT s.*, row_to_json(r.*) AS run FROM steps s JOIN runs r ON r.id = s.run_id
         WHERE s.state = 'pending' AND r.state = 'running' AND s.not_before <= clock_timestamp() FOR UPDATE OF s SKIP LOCKED`,
      );
      const out: { run: RunRow; step: Step; attempt: number; depsDone: number }[] = [];
      const stateCache = new Map<string, StepRow[]>();
      for (const s of pending) {
        const run = s.run;
        const step = run.spec.steps.find((x) => x.name === s.name) as Step;
        let siblings = stateCache.get(run.id);
        if (!siblings) {
          siblings = await q.query<StepRow>("SELECT * FROM steps WHERE run_id = $1", [run.id]);
          stateCache.set(run.id, siblings);
        }
        const deps = siblings.filter((x) => step.dependsOn.includes(x.name));
        if (deps.some((d) => ["failed", "skipped", "cancelled"].includes(d.state))) {
          await q.query(
            "UPDATE steps SET state = 'skipped', finished_at = clock_timestamp(), message = 'a dependency did not succeed' WHERE run_id = $1 AND name = $2",
            [run.id, s.name],
          );
          await audit(q, this.#identity, "step", `${run.id}/${s.name}`, "pending", "skipped");
          continue;
        }
        if (!deps.every((d) => d.state === "succeeded")) continue;
        const attempt = s.attempt + 1;
        const depsDone = Math.max(
          0,
          ...deps.map((d) => (d.finished_at ? new Date(d.finished_at).getTime() : 0)),
        );
        if (step.kind === "approval") {
          await q.query(
            "UPDATE steps SET state = 'waiting', attempt = $3, started_at = clock_timestamp() WHERE run_id = $1 AND name = $2",
            [run.id, s.name, attempt],
          );
          await audit(q, this.#identity, "step", `${run.id}/${s.name}`, "pending", "waiting", {
            prompt: step.approval.prompt,
          });
          continue;
        }
        const name = attemptName(run.pipeline, run.id, s.name, attempt);
        await q.query(
          "UPDATE steps SET state = 'starting', attempt = $3, executor_name = $4, started_at = NULL WHERE run_id = $1 AND name = $2",
          [run.id, s.name, attempt, name],
        );
        await audit(q, this.#identity, "step", `${run.id}/${s.name}`, "pending", "starting", {
          attempt,
          executor: name,
        });
        out.push({ run, step, attempt, depsDone });
      }
      return out;
    });
    await Promise.all(
      claimed.map(async ({ run, step, attempt, depsDone }) => {
        const launch = this.#launch(run, step as Step & { kind: "container" }, attempt);
        try {
          await this.#executor.start(launch);
          if (depsDone > 0) this.metrics.dispatchLatency.observe((Date.now() - depsDone) / 1000);
          await this.#db.query(
            "UPDATE steps SET state = 'running', started_at = clock_timestamp() WHERE run_id = $1 AND name = $2 AND attempt = $3 AND state = 'starting'",
            [run.id, step.name, attempt],
          );
        } catch (err) {
          const message = `could not start: ${err instanceof Error ? err.message : String(err)}`;
          this.#log(`engine: ${launch.name}: ${message}`);
          await this.#db.tx(async (q) => {
            const [cur] = await q.query<StepRow>(
              "SELECT * FROM steps WHERE run_id = $1 AND name = $2 AND attempt = $3 AND state = 'starting' FOR UPDATE",
              [run.id, step.name, attempt],
            );
            if (cur) await this.#endAttempt(q, run, cur, false, message, null);
          });
        }
      }),
    );
    if (claimed.length > 0) this.wake();
  }

  /** (4) Runs whose steps are all done succeed or fail. */
  async #finish(): Promise<void> {
    const done = await this.#db.query<{ id: string; failed: string[] | null }>(
      `SELECT r.id, array_agg(s.name ORDER BY s.name) FILTER (WHERE s.state <> 'succeeded') AS failed FROM runs r JOIN steps s ON s.run_id = r.id
       WHERE r.state = 'running' GROUP BY r.id HAVING bool_and(s.state IN (${TERMINAL_STEP.map((t) => `'${t}'`).join(",")}))`,
    );
    for (const r of done) {
      const failed = r.failed ?? [];
      const state: RunState = failed.length === 0 ? "succeeded" : "failed";
      const message = failed.length === 0 ? null : `steps not succeeded: ${failed.join(", ")}`;
      const changed = await this.#db.tx(async (q) => {
        const rows = await q.query(
          "UPDATE runs SET state = $2, message = $3, finished_at = clock_timestamp() WHERE id = $1 AND state = 'running' RETURNING id",
          [r.id, state, message],
        );
        if (rows.length > 0)
          await audit(q, this.#identity, "run", r.id, "running", state, message ? { message } : undefined);
        return rows.length > 0;
      });
      if (changed) this.metrics.runsFinished.inc({ state });
    }
    if (done.length > 0) this.wake();
  }

  /** Counts for `/metrics`: runs by state, queue depth (queued runs and ready-to-start steps). */
  async gauges(): Promise<{ runs: Record<string, number>; queuedRuns: number; pendingSteps: number }> {
    const runs = await this.#db.query<{ state: string; n: string }>(
      "SELECT state, count(*) AS n FROM runs GROUP BY state",
    );
    const [pending] = await this.#db.query<{ n: string }>(
      "SELECT count(*) AS n FROM steps s JOIN runs r ON r.id = s.run_id WHERE r.state = 'running' AND s.state = 'pending'",
    );
    const byState = Object.fromEntries(runs.map((r) => [r.state, Number(r.n)]));
    return { runs: byState, queuedRuns: byState.queued ?? 0, pendingSteps: Number(pending?.n ?? 0) };
  }
}
