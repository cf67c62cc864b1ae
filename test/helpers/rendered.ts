import { type ChildProcess, type SpawnSyncReturns, spawn, spawnSync } from "node:child_process";
import * as os from "node:os";
import * as path from "node:path";
import type { KubeObject } from "../../components/shared";

/**
 * Runs a chart's *rendered* container on this machine, the way the kubelet would: its command and
 * args, its env with Secret references resolved and `$(VAR)` expanded (Kubernetes' rules), and its
 * mount paths mapped onto folders here. The integration tier uses it so a test proves the chart's
 * configuration works, not a hand-written one.
 */

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly secretKeyRef?: { readonly name: string; readonly key: string; readonly optional?: boolean };
  };
}

export interface Container {
  readonly name: string;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
}

/** Secrets by name, each a map of key to value (what the component writes into the cluster). */
export type SecretStore = ReadonlyMap<string, Readonly<Record<string, string>>>;

/** The containers of a workload object (Deployment, StatefulSet, Job, CronJob). */
export function containersOf(o: KubeObject): Container[] {
  const spec = o.spec as Record<string, unknown>;
  const template = (
    o.kind === "CronJob" ? (spec.jobTemplate as { spec: { template: unknown } }).spec.template : spec.template
  ) as { spec: { containers: Container[]; initContainers?: Container[] } };
  return [...(template.spec.initContainers ?? []), ...template.spec.containers];
}

export function containerNamed(o: KubeObject, name: string): Container {
  const c = containersOf(o).find((x) => x.name === name);
  if (!c) throw new Error(`${o.kind}/${o.metadata.name} has no container "${name}"`);
  return c;
}

/** Expands `$(VAR)` from `env` as Kubernetes does (`$$(VAR)` stays literal, unknown names stay as written). */
export function expandKube(value: string, env: Readonly<Record<string, string>>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) =>
    m === "$$" ? "$" : name !== undefined && env[name] !== undefined ? env[name] : m,
  );
}

/** The container's environment, in order, with Secret references resolved and `$(VAR)` expanded. */
export function resolveEnv(c: Container, secrets: SecretStore): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      const v = secrets.get(ref.name)?.[ref.key];
      if (v === undefined) {
        if (ref.optional) continue;
        throw new Error(
          `container ${c.name}: env ${e.name} references missing Secret key ${ref.name}/${ref.key}`,
        );
      }
      env[e.name] = v;
    } else if (e.value !== undefined) {
      env[e.name] = expandKube(e.value, env);
    } else {
      throw new Error(`container ${c.name}: env ${e.name} has neither value nor a Secret reference`);
    }
  }
  return env;
}

export interface RunOptions {
  readonly secrets: SecretStore;
  /** Folders standing in for the pod's mounts: `{ "/tmp": "/tmp/xyz" }` rewrites those paths in args and env. */
  readonly mounts?: Readonly<Record<string, string>>;
  /** Folders put first on PATH (where the image's programs are installed here, e.g. a venv's bin). */
  readonly path?: readonly string[];
  /**
   * What a test must change because it runs on loopback rather than in the cluster (a Service name
   * that only resolves there, a port); `undefined` removes a variable. Listed, so each is visible.
   */
  readonly envOverrides?: Readonly<Record<string, string | undefined>>;
  /** Replaces argument values after a flag, e.g. `{ "--port": "5123" }` (loopback ports). */
  readonly argOverrides?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** Rewrites mount paths (`/tmp`, `/tmp/...`, also inside a script) to the folders standing in for them, in one pass. */
function remap(value: string, mounts: Readonly<Record<string, string>>): string {
  const froms = Object.keys(mounts).sort((a, b) => b.length - a.length);
  if (froms.length === 0) return value;
  const escaped = froms.map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp(`(?<![\\w./-])(${escaped.join("|")})(?=/|$|[\\s"'])`, "g");
  return value.replace(re, (m) => mounts[m] as string);
}

/** The command line and environment the container would run with. */
export function commandLine(c: Container, opts: RunOptions): { argv: string[]; env: Record<string, string> } {
  const mounts = opts.mounts ?? {};
  const podEnv = resolveEnv(c, opts.secrets);
  for (const [k, v] of Object.entries(podEnv)) podEnv[k] = remap(v, mounts);
  const env: Record<string, string> = {
    PATH: [...(opts.path ?? []), process.env.PATH ?? "/usr/bin:/bin"].join(":"),
    LANG: "C.UTF-8",
    ...podEnv,
  };
  if (!env.HOME) env.HOME = os.tmpdir();
  for (const [k, v] of Object.entries(opts.envOverrides ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const args = [...(c.args ?? [])].map((a) => remap(expandKube(a, env), mounts));
  const command = [...(c.command ?? [])].map((a) => remap(expandKube(a, env), mounts));
  const argv = [...command, ...args];
  for (const [flag, value] of Object.entries(opts.argOverrides ?? {})) {
    const i = argv.indexOf(flag);
    if (i < 0) throw new Error(`container ${c.name}: no ${flag} argument to override`);
    argv[i + 1] = value;
  }
  if (argv.length === 0)
    throw new Error(`container ${c.name}: no command (the image's entrypoint cannot run here)`);
  return { argv, env };
}

/** Runs the container to completion (a Job's container). */
export function runToCompletion(c: Container, opts: RunOptions): SpawnSyncReturns<string> {
  const { argv, env } = commandLine(c, opts);
  return spawnSync(argv[0] as string, argv.slice(1), {
    env,
    cwd: opts.cwd,
    encoding: "utf8",
    timeout: 300_000,
  });
}

export interface RunningContainer {
  readonly child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

/** Starts the container as a long-running process (a server). */
export function startContainer(c: Container, opts: RunOptions): RunningContainer {
  const { argv, env } = commandLine(c, opts);
  const child = spawn(argv[0] as string, argv.slice(1), {
    env,
    cwd: opts.cwd,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  child.stdout?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  child.stderr?.on("data", (b: Buffer) => {
    out += b.toString();
  });
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      // The whole process group: a server's workers are its children.
      try {
        process.kill(-(child.pid as number), "SIGTERM");
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-(child.pid as number), "SIGKILL");
        } catch {
          // already gone
        }
      }, 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until `url` answers (any HTTP status), or fails with the process's output. */
export async function waitForHttp(
  url: string,
  proc: RunningContainer | undefined,
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      if (proc && proc.child.exitCode !== null)
        throw new Error(
          `process exited (${proc.child.exitCode}) before ${url} answered:\n${proc.output().slice(-3000)}`,
        );
      if (Date.now() > deadline)
        throw new Error(`${url} did not answer in ${timeoutMs} ms:\n${proc?.output().slice(-3000) ?? ""}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Where the integration tier's Python venvs live (scripts/integration/setup.sh). */
export function venvBin(name: "mlflow" | "feast" | "s3"): string {
  const root =
    process.env.MLOPS_PYENV_DIR ??
    path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "mlops-platform", "pyenv");
  return path.join(root, name, "bin");
}
