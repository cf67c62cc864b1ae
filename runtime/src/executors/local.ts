import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { type AttemptStatus, type Executor, type StepLaunch, stepEnvironment } from "./executor";

/**
 * Runs container steps as local processes (the image is not used: the command runs on this
 * machine). Each attempt gets a folder `<workDir>/<name>/` holding its pid, output and, once it
 * ends, its exit code, written by a small `sh` wrapper. So an engine restarted after a crash adopts
 * attempts still running (their pid is alive) or finished (the exit file is there) instead of
 * running them again.
 */
export class LocalExecutor implements Executor {
  readonly kind = "local" as const;
  readonly #listeners: (() => void)[] = [];

  /** Our children's exits wake the engine at once; adopted processes are seen on its idle passes. */
  constructor(private readonly workDir: string) {
    mkdirSync(workDir, { recursive: true });
  }

  #dir(name: string): string {
    if (!/^[a-z0-9-]+$/.test(name))
      throw new Error(`local executor: invalid attempt name ${JSON.stringify(name)}`);
    return path.join(this.workDir, name);
  }

  #notify(): void {
    for (const cb of this.#listeners) cb();
  }

  async start(launch: StepLaunch): Promise<"started" | "adopted"> {
    const dir = this.#dir(launch.name);
    try {
      mkdirSync(dir); // atomic: the second caller for one name adopts
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return "adopted";
      throw err;
    }
    const argv = [...launch.container.command, ...launch.container.args];
    const script =
      '"$@" >"$MLOPS_ATTEMPT_DIR/output" 2>&1; code=$?; echo $code >"$MLOPS_ATTEMPT_DIR/exit.tmp"; mv "$MLOPS_ATTEMPT_DIR/exit.tmp" "$MLOPS_ATTEMPT_DIR/exit"';
    const child = spawn("sh", ["-c", script, "mlops-step", ...argv], {
      cwd: dir,
      detached: true,
      stdio: "ignore",
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: dir,
        ...stepEnvironment(launch),
        MLOPS_ATTEMPT_DIR: dir,
      },
    });
    await new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve);
      child.once("error", reject);
    });
    writeFileSync(path.join(dir, "pid"), String(child.pid));
    child.once("exit", () => this.#notify());
    child.unref();
    return "started";
  }

  async status(name: string): Promise<AttemptStatus> {
    const dir = this.#dir(name);
    if (!existsSync(dir)) return { state: "missing" };
    const exitFile = path.join(dir, "exit");
    if (existsSync(exitFile)) {
      const code = Number(readFileSync(exitFile, "utf8").trim());
      if (code === 0) return { state: "succeeded" };
      return { state: "failed", exitCode: code, message: `exited with code ${code}` };
    }
    const pidFile = path.join(dir, "pid");
    if (!existsSync(pidFile)) return { state: "running" }; // between mkdir and the pid write
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      process.kill(pid, 0);
      return { state: "running" };
    } catch {
      // The wrapper is gone without writing an exit code: killed (a machine restart, SIGKILL).
      return existsSync(exitFile)
        ? this.status(name)
        : { state: "failed", message: "the process ended without an exit code (killed)" };
    }
  }

  async stop(name: string): Promise<void> {
    const pidFile = path.join(this.#dir(name), "pid");
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      process.kill(-pid, "SIGTERM"); // the wrapper's whole process group
    } catch {
      // already gone
    }
  }

  async logs(name: string): Promise<string> {
    const file = path.join(this.#dir(name), "output");
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  }

  onChange(cb: () => void): void {
    this.#listeners.push(cb);
  }

  async close(): Promise<void> {
    // Nothing to release: attempts outlive the executor by design.
  }
}
