import type { ContainerStep } from "../spec";

/** One attempt of a container step, as the engine hands it to an executor. */
export interface StepLaunch {
  /**
   * Deterministic and unique: `<pipeline>-<run id>-<step>-<attempt>`. The executor's object (a Job,
   * a process folder) carries this name, so a restarted engine finds it instead of starting another.
   */
  readonly name: string;
  readonly pipeline: string;
  readonly runId: string;
  readonly step: string;
  readonly attempt: number;
  readonly container: ContainerStep;
  /** Run parameters, passed as `MLOPS_PARAM_<NAME>` environment variables. */
  readonly params: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
}

export type AttemptStatus =
  | { readonly state: "running" }
  | { readonly state: "succeeded" }
  | { readonly state: "failed"; readonly message: string; readonly exitCode?: number }
  /** No such attempt: never started, or its object was removed. */
  | { readonly state: "missing" };

export interface Executor {
  readonly kind: "local" | "kubernetes";
  /** Starts the attempt, or adopts it if an object of that name exists: never two of one name. */
  start(launch: StepLaunch): Promise<"started" | "adopted">;
  status(name: string): Promise<AttemptStatus>;
  /** Stops the attempt (timeout, cancellation); stopping a finished or missing one is fine. */
  stop(name: string): Promise<void>;
  /** What the attempt printed so far. */
  logs(name: string): Promise<string>;
  /** `cb` runs whenever an attempt may have changed state, so the engine reacts at once. */
  onChange(cb: () => void): void;
  close(): Promise<void>;
}

/** The environment every step gets besides its own `env`. */
export function stepEnvironment(launch: StepLaunch): Record<string, string> {
  const env: Record<string, string> = {
    ...launch.container.env,
    MLOPS_PIPELINE: launch.pipeline,
    MLOPS_RUN_ID: launch.runId,
    MLOPS_STEP: launch.step,
    MLOPS_ATTEMPT: String(launch.attempt),
  };
  for (const [k, v] of Object.entries(launch.params)) env[`MLOPS_PARAM_${k.toUpperCase()}`] = v;
  return env;
}
