/**
 * Runtime load benchmark: 200 concurrent runs (3 steps each, local executor, steps that exit at
 * once) on ONE runtime replica (`mlops serve` as its own process), with the embedded PGlite store
 * and with a PostgreSQL server side by side in the same run. Prints wall time, runs/s, step
 * starts/s, p50/p95 of trigger-to-finish per run, and the process's peak RSS (VmHWM). Not a test.
 *
 *   npm run bench:runtime-load [-- --runs 200]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { freePort, startPostgres } from "../../test/helpers/postgres";

const { values } = parseArgs({ options: { runs: { type: "string", default: "200" } } });
const RUNS = Number(values.runs);
const TOKEN = "mlops_bench-token";
const PIPELINE = `apiVersion: mlops-platform.io/v1
kind: Pipeline
metadata: { name: load }
spec:
  concurrency: { key: run_key, policy: queue }
  params: { run_key: "0" }
  steps:
    - { name: a, image: "busybox:1", command: ["true"] }
    - { name: b, image: "busybox:1", command: ["true"], dependsOn: [a] }
    - { name: c, image: "busybox:1", command: ["true"], dependsOn: [b] }
`;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

function peakRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

async function measure(label: string, env: Record<string, string>) {
  const work = mkdtempSync(path.join(os.tmpdir(), "mlops-bench-load-"));
  const port = await freePort();
  const proc: ChildProcess = spawn(
    process.execPath,
    [path.resolve(__dirname, "../../runtime/bin/mlops.js"), "serve"],
    {
      env: {
        PATH: process.env.PATH,
        HOME: work,
        MLOPS_LISTEN: `127.0.0.1:${port}`,
        MLOPS_ADMIN_TOKEN: TOKEN,
        MLOPS_WORK_DIR: path.join(work, "attempts"),
        ...env,
      },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const h = { authorization: `Bearer ${TOKEN}` };
  for (let i = 0; ; i++) {
    if ((await fetch(`${url}/readyz`).catch(() => undefined))?.ok) break;
    if (i > 300) throw new Error(`${label}: runtime did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  await fetch(`${url}/api/v1/pipelines`, {
    method: "PUT",
    headers: { ...h, "content-type": "application/yaml" },
    body: PIPELINE,
  });
  const start = performance.now();
  const created = new Map<string, number>();
  await Promise.all(
    Array.from({ length: RUNS }, async (_, i) => {
      const r = (await (
        await fetch(`${url}/api/v1/pipelines/load/runs`, {
          method: "POST",
          headers: { ...h, "content-type": "application/json" },
          body: JSON.stringify({ params: { run_key: String(i) } }),
        })
      ).json()) as { runId: string };
      created.set(r.runId, performance.now());
    }),
  );
  const triggered = performance.now() - start;
  const done = new Map<string, number>();
  let lastLine = 0;
  while (done.size < RUNS) {
    const { runs } = (await (
      await fetch(`${url}/api/v1/runs?pipeline=load&limit=1000`, { headers: h })
    ).json()) as { runs: { id: string; state: string }[] };
    for (const r of runs)
      if (!done.has(r.id) && ["succeeded", "failed"].includes(r.state)) done.set(r.id, performance.now());
    if (performance.now() - lastLine > 5000) {
      console.log(
        `  ${label}: ${done.size}/${RUNS} runs finished after ${((performance.now() - start) / 1000).toFixed(1)} s`,
      );
      lastLine = performance.now();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const wall = (performance.now() - start) / 1000;
  const { runs } = (await (
    await fetch(`${url}/api/v1/runs?pipeline=load&limit=1000`, { headers: h })
  ).json()) as { runs: { state: string }[] };
  const failed = runs.filter((r) => r.state !== "succeeded").length;
  const latencies = [...done.entries()].map(([id, t]) => (t - (created.get(id) ?? start)) / 1000);
  const rss = peakRss(proc.pid as number);
  proc.kill("SIGTERM");
  await new Promise((r) => proc.once("exit", r));
  rmSync(work, { recursive: true, force: true });
  return {
    label,
    wall,
    triggered: triggered / 1000,
    runsPerSecond: RUNS / wall,
    stepsPerSecond: (RUNS * 3) / wall,
    p50: pct(latencies, 50),
    p95: pct(latencies, 95),
    rss,
    failed,
  };
}

async function main() {
  console.log(
    `runtime load: ${RUNS} concurrent runs x 3 steps, one replica, local executor (${os.cpus().length} cores)`,
  );
  // PGlite as local mode runs it: durable, in a folder (the bench's temporary HOME).
  const pgliteDir = mkdtempSync(path.join(os.tmpdir(), "mlops-bench-pglite-"));
  const results = [await measure("pglite (embedded)", { MLOPS_DATA_DIR: pgliteDir })];
  rmSync(pgliteDir, { recursive: true, force: true });
  const pg = await startPostgres({ max_connections: "100" });
  try {
    results.push(
      await measure("postgres (server)", {
        MLOPS_DATABASE_URL: `postgresql://${pg.adminUser}:${pg.adminPassword}@${pg.host}:${pg.port}/postgres`,
      }),
    );
  } finally {
    await pg.stop();
  }
  const base = results[0] as (typeof results)[0];
  console.log(
    "\n| store | wall (s) | runs/s | step starts/s | run p50 (s) | run p95 (s) | peak RSS (MB) | failed | wall vs pglite |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const r of results)
    console.log(
      `| ${r.label} | ${r.wall.toFixed(1)} | ${r.runsPerSecond.toFixed(1)} | ${r.stepsPerSecond.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.rss.toFixed(0)} | ${r.failed} | ${(r.wall / base.wall).toFixed(2)}x |`,
    );
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
