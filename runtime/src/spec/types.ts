/**
 * The pipeline spec (apiVersion `mlops-platform.io/v1`, kind `Pipeline`), as the engine uses it
 * after parsing: every default applied, every field checked.
 */

export type ConcurrencyPolicy = "queue" | "replace";

export interface RetryPolicy {
  /** Further attempts after the first. */
  readonly limit: number;
  readonly backoffSeconds: number;
  readonly factor: number;
  readonly maxBackoffSeconds: number;
}

export interface Resources {
  readonly cpu?: string;
  readonly memory?: string;
  readonly gpu: number;
}

export interface ContainerStep {
  readonly image: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly resources: Resources;
}

export interface ApprovalStep {
  /** What the approver is asked. */
  readonly prompt: string;
}

interface StepBase {
  readonly name: string;
  readonly dependsOn: readonly string[];
  readonly retries: RetryPolicy;
  /** Deadline of one attempt (container steps) or of the wait (approval). */
  readonly timeoutSeconds: number;
}

export type Step =
  | (StepBase & { readonly kind: "container"; readonly container: ContainerStep })
  | (StepBase & { readonly kind: "approval"; readonly approval: ApprovalStep });

export type StepKind = Step["kind"];

export type Trigger =
  | { readonly type: "manual" }
  | { readonly type: "schedule"; readonly cron: string; readonly timezone: string }
  | { readonly type: "git"; readonly secretEnv: string; readonly branches: readonly string[] }
  | { readonly type: "alert"; readonly alertnames: readonly string[] }
  | {
      readonly type: "objectStore";
      readonly bucket: string;
      readonly prefix: string;
      readonly pollSeconds: number;
      readonly debounceSeconds: number;
    }
  | { readonly type: "featureStore"; readonly featureViews: readonly string[]; readonly pollSeconds: number }
  | { readonly type: "modelVersion"; readonly model: string; readonly pollSeconds: number };

export type TriggerType = Trigger["type"];

export interface Pipeline {
  readonly name: string;
  /** Default run parameters; a trigger's parameters override them. */
  readonly params: Readonly<Record<string, string>>;
  readonly concurrency: {
    /** Runs with the same value of this parameter (the pipeline name when unset) run one at a time. */
    readonly key?: string;
    readonly policy: ConcurrencyPolicy;
  };
  readonly triggers: readonly Trigger[];
  readonly steps: readonly Step[];
}
