import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, type LocalPostgres, startPostgres } from "../helpers/postgres";

/**
 * The runtime on a real PostgreSQL server, as two replicas (two `mlops serve` processes) sharing it:
 * migrations run once, one replica leads, triggers delivered to both start one run, and `kill -9` of
 * the leader in the middle of a run lets the other finish it without running any step twice.
 */
const ADMIN = "mlops_integration-admin-token";
let pg: LocalPostgres;
let work: string;
const replicas: { proc: ChildProcess; url: string; out: () => string }[] = [];

const PIPELINE = `apiVersion: mlops-platform.io/v1
kind: Pipeline
metadata: { name: crash }
spec:
  steps:
    - { name: one, image: "busybox:1", command: [sh, -c, "echo one >> $EXECUTIONS; sleep 1"] }
    - { name: two, image: "busybox:1", command: [sh, -c, "echo two >> $EXECUTIONS; sleep 4"], dependsOn: [one] }
    - { name: three, image: "busybox:1", command: [sh, -c, "echo three >> $EXECUTIONS"], dependsOn: [two] }
`;

async function startReplica(name: string): Promise<(typeof replicas)[number]> {
  const port = await freePort();
  const proc = spawn(process.execPath, [path.resolve("runtime/bin/mlops.js"), "serve"], {
    env: {
      PATH: process.env.PATH,
      HOME: work,
      MLOPS_DATABASE_URL: `postgresql://${pg.adminUser}:${pg.adminPassword}@${pg.host}:${pg.port}/postgres`,
      MLOPS_LISTEN: `127.0.0.1:${port}`,
      MLOPS_WORK_DIR: path.join(work, "attempts"),
      MLOPS_ADMIN_TOKEN: ADMIN,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (b: Buffer) => {
    out += `[${name}] ${b}`;
  });
  proc.stderr?.on("data", (b: Buffer) => {
    out += `[${name}] ${b}`;
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch {
      // not yet
    }
    if (proc.exitCode !== null || Date.now() > deadline)
      throw new Error(`replica ${name} did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const r = { proc, url, out: () => out };
  replicas.push(r);
  return r;
}

const api = async (url: string, method: string, p: string, body?: string) => {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/yaml" },
    ...(body ? { body } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};
const leaderOf = async () => {
  for (const r of replicas.filter((x) => x.proc.exitCode === null && x.proc.signalCode === null)) {
    const ready = (await (await fetch(`${r.url}/readyz`)).json()) as { leader: boolean };
    if (ready.leader) return r;
  }
  return undefined;
};

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), "mlops-runtime-it-"));
  pg = await startPostgres({});
  await startReplica("a");
  await startReplica("b");
}, 120_000);

afterAll(async () => {
  for (const r of replicas) if (r.proc.exitCode === null) r.proc.kill("SIGKILL");
  await pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("two runtime replicas on a real Postgres", () => {
  it("applied the migrations once, and exactly one replica leads", async () => {
    const counts = await Promise.all(replicas.map((r) => r.out().match(/migrations applied: ([^\n]*)/)?.[1]));
    expect(counts.sort()).toEqual(["1", "none (current)"]);
    const leaders = [];
    for (let i = 0; i < 50 && leaders.length === 0; i++) {
      for (const r of replicas)
        if (((await (await fetch(`${r.url}/readyz`)).json()) as { leader: boolean }).leader) leaders.push(r);
      await new Promise((res) => setTimeout(res, 100));
    }
    expect(leaders.length).toBe(1);
  });

  it("one trigger delivered to both replicas at once starts one run", async () => {
    const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
    await api(
      a.url,
      "PUT",
      "/api/v1/pipelines",
      PIPELINE.replaceAll("$EXECUTIONS", path.join(work, "dedupe-executions")),
    );
    const trigger = (url: string) =>
      fetch(`${url}/api/v1/pipelines/crash/runs`, {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}`, "idempotency-key": "same-delivery" },
      }).then((r) => r.json());
    const results = (await Promise.all([trigger(a.url), trigger(b.url), trigger(a.url), trigger(b.url)])) as {
      runId: string;
      created: boolean;
    }[];
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    expect(results.filter((r) => r.created).length).toBe(1);
    await api(a.url, "POST", `/api/v1/runs/${results[0]?.runId}/cancel`);
  });

  it("a terminated leader session: the process survives, a leader is re-elected, never two at once", async () => {
    const psql = (sql: string) =>
      spawnSync(
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
          pg.adminUser,
          "-d",
          "postgres",
          "-c",
          sql,
        ],
        {
          env: { PATH: process.env.PATH ?? "", PGPASSWORD: pg.adminPassword },
          encoding: "utf8",
        },
      );
    const killed = psql(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND objid = 727002 AND granted",
    );
    expect(killed.stdout.trim()).toBe("1");
    let sawLeader = 0;
    for (let i = 0; i < 60; i++) {
      const flags = await Promise.all(
        replicas.map(
          async (r) => ((await (await fetch(`${r.url}/readyz`)).json()) as { leader: boolean }).leader,
        ),
      );
      const leaders = flags.filter(Boolean).length;
      expect(leaders).toBeLessThanOrEqual(1);
      if (leaders === 1) sawLeader++;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sawLeader).toBeGreaterThan(0);
    // The old leader noticed; it either took the lock again on a new session or the other did.
    expect(replicas.map((r) => r.out()).join("")).toMatch(/leader connection: Connection terminated/);
  });

  it("kill -9 of the leader mid-run: the other replica finishes the run, no step runs twice", async () => {
    const executions = path.join(work, "executions");
    writeFileSync(executions, "");
    const leader = (await leaderOf()) as (typeof replicas)[0];
    const other = replicas.find((r) => r !== leader) as (typeof replicas)[0];
    await api(leader.url, "PUT", "/api/v1/pipelines", PIPELINE.replaceAll("$EXECUTIONS", executions));
    const { json } = await api(leader.url, "POST", "/api/v1/pipelines/crash/runs");
    const runId = json.runId as string;
    // Kill the leader while step two runs.
    for (let i = 0; i < 200; i++) {
      const run = (await api(other.url, "GET", `/api/v1/runs/${runId}`)).json as {
        steps: { name: string; state: string }[];
      };
      if (run.steps[1]?.state === "running") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    leader.proc.kill("SIGKILL");
    let run: { state: string; steps: { name: string; state: string; attempt: number }[] } = {
      state: "",
      steps: [],
    };
    for (let i = 0; i < 400; i++) {
      run = (await api(other.url, "GET", `/api/v1/runs/${runId}`)).json as typeof run;
      if (["succeeded", "failed"].includes(run.state)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(run.state, other.out()).toBe("succeeded");
    expect(run.steps.map((s) => s.attempt)).toEqual([1, 1, 1]);
    expect(readFileSync(executions, "utf8")).toBe("one\ntwo\nthree\n");
    expect(other.out()).toMatch(/leader; resuming work in flight/);
  }, 60_000);
});
