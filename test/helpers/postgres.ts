import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import {
  consumerSecretName,
  type PostgresConfig,
  postgresObjectNames,
  renderPostgres,
  serverSettings,
  sqlName,
} from "../../components/postgres";
import { findObject } from "../../components/shared";
import { containerNamed, runToCompletion } from "./rendered";

/** The newest PostgreSQL server installed from Debian packages (scripts/integration/setup.sh). */
export function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  let versions: string[] = [];
  try {
    versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  } catch {
    // fall through
  }
  if (versions.length === 0)
    throw new Error("no PostgreSQL server under /usr/lib/postgresql. Fix: bash scripts/integration/setup.sh");
  return path.join(root, versions[0] as string, "bin");
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export interface LocalPostgres {
  readonly host: string;
  readonly port: number;
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly bin: string;
  stop(): Promise<void>;
}

/** Postgres refuses to run as root: as root, run its binaries as the Debian `postgres` user. */
function asServerUser(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

/**
 * A real PostgreSQL server on a loopback port in a temporary folder, started with `settings` (the
 * `-c` settings a chart renders) and password (SCRAM) authentication for TCP.
 */
export async function startPostgres(settings: Readonly<Record<string, string>>): Promise<LocalPostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-pg-"));
  const data = path.join(dir, "data");
  const adminUser = "postgres";
  const adminPassword = `pw-${Math.random().toString(36).slice(2)}${Date.now()}`;
  const pwfile = path.join(dir, "pwfile");
  writeFileSync(pwfile, adminPassword, { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
    chownSync(dir, uid, gid);
    chownSync(pwfile, uid, gid);
  }
  const [initCmd, initArgs] = asServerUser(path.join(bin, "initdb"), [
    "-D",
    data,
    "-U",
    adminUser,
    `--pwfile=${pwfile}`,
    "--auth-host=scram-sha-256",
    "--auth-local=scram-sha-256",
    "-E",
    "UTF8",
    "--no-instructions",
  ]);
  execFileSync(initCmd, initArgs, { stdio: ["ignore", "ignore", "pipe"] });
  const port = await freePort();
  // The rendered settings as they are, except where a loopback test must differ: the address.
  const merged = {
    ...settings,
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: dir,
  };
  const [cmd, args] = asServerUser(path.join(bin, "postgres"), [
    "-D",
    data,
    ...Object.entries(merged).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
  ]);
  const child: ChildProcess = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (b: Buffer) => {
    log += b.toString();
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      execFileSync(path.join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port)], {
        stdio: "ignore",
      });
      break;
    } catch {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`postgres did not start (exit ${child.exitCode}):\n${log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return {
    host: "127.0.0.1",
    port,
    adminUser,
    adminPassword,
    bin,
    async stop() {
      // Fast shutdown through pg_ctl (a signal to `runuser` would not reach the server).
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        const [ctl, ctlArgs] = asServerUser(path.join(bin, "pg_ctl"), [
          "stop",
          "-D",
          data,
          "-m",
          "fast",
          "-w",
        ]);
        execFileSync(ctl, ctlArgs, { stdio: "ignore" });
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A real server prepared as the Postgres component would leave it: started with the chart's
 * rendered settings, the admin and consumer Secrets filled (host and port pointing at loopback,
 * since Service names only resolve in a cluster), and the chart's rendered bootstrap Job run.
 * Returns the server; `secrets` receives the Secrets.
 */
export async function startBootstrappedPostgres(
  config: PostgresConfig,
  secrets: Map<string, Record<string, string>>,
  work: string,
): Promise<LocalPostgres> {
  const pg = await startPostgres(serverSettings(config));
  secrets.set(config.adminSecretName, { username: pg.adminUser, password: pg.adminPassword });
  for (const c of config.consumers)
    secrets.set(consumerSecretName(config.name, c.name), {
      username: sqlName(c.name),
      password: `${c.name}-${Math.random().toString(36).slice(2)}`,
      database: sqlName(c.name),
      host: pg.host,
      port: String(pg.port),
    });
  const objects = renderPostgres(config);
  const names = postgresObjectNames(config);
  const cm = findObject(objects, "ConfigMap", names.bootstrapConfigMap) as { data?: Record<string, string> };
  const dir = mkdtempSync(path.join(work, "bootstrap-"));
  mkdirSync(path.join(dir, "sql"));
  mkdirSync(path.join(dir, "tmp"));
  writeFileSync(path.join(dir, "sql", "bootstrap.sql"), cm.data?.["bootstrap.sql"] as string);
  const boot = runToCompletion(containerNamed(findObject(objects, "Job", names.bootstrapJob), "bootstrap"), {
    secrets,
    path: [pg.bin],
    mounts: { "/bootstrap": path.join(dir, "sql"), "/tmp": path.join(dir, "tmp") },
    envOverrides: { PGHOST: pg.host, PGPORT: String(pg.port) },
  });
  if (boot.status !== 0) {
    await pg.stop();
    throw new Error(`postgres bootstrap Job failed:\n${boot.stderr}`);
  }
  return pg;
}
