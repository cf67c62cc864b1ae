import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  consumerSecretName,
  passwordEnv,
  postgresObjectNames,
  renderPostgres,
  resolvePostgres,
} from "../../components/postgres";
import { findObject, type KubeObject } from "../../components/shared";
import { type LocalPostgres, startPostgres } from "../helpers/postgres";
import { containerNamed, runToCompletion } from "../helpers/rendered";

/**
 * The Postgres chart's configuration on a real server: the server runs with the `-c` settings the
 * StatefulSet renders, and the bootstrap Job's rendered command, environment and SQL (from its
 * ConfigMap) run against it, with Secret references resolved the way the component fills them.
 */
const config = resolvePostgres({
  namespace: "data",
  consumers: [
    { name: "mlflow", podLabels: { app: "mlflow" } },
    { name: "feast", podLabels: { app: "feast" } },
    { name: "runtime", podLabels: { app: "runtime" } },
  ],
});
const objects = renderPostgres(config);
const names = postgresObjectNames(config);

/** `-c key=value` pairs from the StatefulSet's args. */
function renderedSettings(): Record<string, string> {
  const args = containerNamed(findObject(objects, "StatefulSet", names.statefulSet), "postgres").args ?? [];
  const out: Record<string, string> = {};
  for (let i = 0; i < args.length; i += 2) {
    expect(args[i]).toBe("-c");
    const [k, ...v] = (args[i + 1] as string).split("=");
    out[k as string] = v.join("=");
  }
  return out;
}

let pg: LocalPostgres;
let work: string;
const secrets = new Map<string, Record<string, string>>();

beforeAll(async () => {
  pg = await startPostgres(renderedSettings());
  work = mkdtempSync(path.join(os.tmpdir(), "mlops-pg-bootstrap-"));
  secrets.set(config.adminSecretName, { username: pg.adminUser, password: pg.adminPassword });
  for (const c of config.consumers)
    secrets.set(consumerSecretName(config.name, c.name), {
      password: `${c.name}-${Math.random().toString(36).slice(2)}`,
    });
}, 60_000);

afterAll(async () => {
  await pg?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * Runs the bootstrap Job's rendered command with its rendered environment (secrets resolved), the
 * ConfigMap's SQL mounted where the Job mounts it, and the host pointed at loopback (the Service
 * name only resolves in the cluster); `overrides` change or (undefined) remove variables.
 */
function runBootstrap(overrides: Record<string, string | undefined> = {}) {
  const cm = findObject(objects, "ConfigMap", names.bootstrapConfigMap) as KubeObject & {
    data: Record<string, string>;
  };
  mkdirSync(path.join(work, "sql"), { recursive: true });
  writeFileSync(path.join(work, "sql", "bootstrap.sql"), cm.data["bootstrap.sql"] as string);
  return runToCompletion(containerNamed(findObject(objects, "Job", names.bootstrapJob), "bootstrap"), {
    secrets,
    path: [pg.bin],
    mounts: { "/bootstrap": path.join(work, "sql"), "/tmp": work },
    envOverrides: { PGHOST: pg.host, PGPORT: String(pg.port), ...overrides },
  });
}

function psqlAs(user: string, password: string, database: string, sql: string) {
  return spawnSync(
    path.join(pg.bin, "psql"),
    [
      "-X",
      "-A",
      "-t",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      pg.host,
      "-p",
      String(pg.port),
      "-U",
      user,
      "-d",
      database,
      "-c",
      sql,
    ],
    { env: { PGPASSWORD: password, PATH: process.env.PATH ?? "" }, encoding: "utf8" },
  );
}

const pw = (consumer: string) => secrets.get(consumerSecretName(config.name, consumer))?.password as string;

describe("Postgres bootstrap on a real server", () => {
  it("the server runs with the rendered settings", () => {
    const r = psqlAs(
      pg.adminUser,
      pg.adminPassword,
      "postgres",
      "SHOW password_encryption; SHOW max_connections;",
    );
    expect(r.stderr).toBe("");
    expect(r.stdout.trim().split("\n")).toEqual(["scram-sha-256", String(config.inCluster.maxConnections)]);
  });

  it("creates one role and database per consumer, and a second run changes nothing", () => {
    const first = runBootstrap();
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/bootstrap: mlflow ready[\s\S]*feast ready[\s\S]*runtime ready/);
    const second = runBootstrap();
    expect(second.status).toBe(0);
    const dbs = psqlAs(
      pg.adminUser,
      pg.adminPassword,
      "postgres",
      "SELECT datname || ':' || pg_get_userbyid(datdba) FROM pg_database WHERE datname IN ('mlflow','feast','runtime') ORDER BY 1",
    );
    expect(dbs.stdout.trim().split("\n")).toEqual(["feast:feast", "mlflow:mlflow", "runtime:runtime"]);
  });

  it("each consumer reaches its own database with its password and no other", () => {
    runBootstrap();
    const own = psqlAs(
      "mlflow",
      pw("mlflow"),
      "mlflow",
      "CREATE TABLE IF NOT EXISTS t (id int); SELECT current_user",
    );
    expect(own.stderr).toBe("");
    expect(own.stdout.trim().split("\n").at(-1)).toBe("mlflow");
    const other = psqlAs("mlflow", pw("mlflow"), "feast", "SELECT 1");
    expect(other.status).not.toBe(0);
    expect(other.stderr).toMatch(/permission denied for database "feast"/);
    const wrong = psqlAs("mlflow", "not-the-password", "mlflow", "SELECT 1");
    expect(wrong.stderr).toMatch(/password authentication failed/);
    const superuser = psqlAs(
      "mlflow",
      pw("mlflow"),
      "mlflow",
      "SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = current_user",
    );
    expect(superuser.stdout.trim()).toBe("f");
  });

  it("a rotated password in the Secret takes effect on the next run; the old one stops working", () => {
    const old = pw("feast");
    const secret = secrets.get(consumerSecretName(config.name, "feast")) as Record<string, string>;
    secret.password = `rotated-${Date.now()}`;
    expect(runBootstrap().status).toBe(0);
    expect(psqlAs("feast", secret.password, "feast", "SELECT 1").status).toBe(0);
    expect(psqlAs("feast", old, "feast", "SELECT 1").stderr).toMatch(/password authentication failed/);
  });

  it("a missing password fails the Job naming the variable, without touching that consumer", () => {
    const r = runBootstrap({ [passwordEnv("runtime")]: undefined });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${passwordEnv("runtime")} is not set or empty`);
    // The consumer's role keeps its password (nothing was set to empty).
    expect(psqlAs("runtime", pw("runtime"), "runtime", "SELECT 1").status).toBe(0);
  });
});
