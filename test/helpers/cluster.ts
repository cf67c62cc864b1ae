import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as kube from "@kubernetes/client-node";
import type * as auto from "@pulumi/pulumi/automation";
import { inlineStack } from "../../scripts/lib/pulumi-env";

/** Typed clients for asserting on the API server directly, never through Pulumi. */
export function kubeClients(kubeconfig: string) {
  const kc = new kube.KubeConfig();
  kc.loadFromFile(kubeconfig);
  return {
    core: kc.makeApiClient(kube.CoreV1Api),
    apps: kc.makeApiClient(kube.AppsV1Api),
    batch: kc.makeApiClient(kube.BatchV1Api),
    networking: kc.makeApiClient(kube.NetworkingV1Api),
  };
}

/** HTTP status of a failed client-node call (e.g. 404), or undefined for other errors. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof kube.ApiException ? err.code : undefined;
}

/**
 * Polls `probe` until it returns something other than undefined. On timeout the error names what
 * was awaited and the last thing seen, so a failing cluster test says why.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 120_000, intervalMs = 500 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = "not yet";
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface TestStack {
  readonly stack: auto.Stack;
  /** The stack's state backend folder, as the CLI wrote it (encrypted secrets, checkpoints, history). */
  readonly backendDir: string;
  /** Removes the stack's local state (the backend and PULUMI_HOME in a temporary folder). */
  dispose(): Promise<void>;
}

/**
 * A stack of an inline program, run through the real Pulumi CLI with the project's offline
 * settings (scripts/lib/pulumi-env.ts) and state in a fresh temporary folder.
 */
export async function inlineTestStack(projectName: string, program: auto.PulumiFn): Promise<TestStack> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${projectName}-`));
  const { stack, env: pulumiEnv } = await inlineStack(dir, projectName, "test", program);
  return {
    stack,
    backendDir: new URL(pulumiEnv.backendUrl).pathname,
    async dispose() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Counts of an update's or preview's resource operations other than `same`. */
export function changesOf(counts: Readonly<Record<string, number>> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(counts ?? {}).filter(([op, n]) => op !== "same" && n > 0));
}

/** Every file under `dir`, read as text (for scanning state for leaked values). */
export function readTree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      files.set(file, readFileSync(file, "utf8"));
    }
  }
  return files;
}

/**
 * `pulumi destroy`, then waits until the namespace is gone from the API server and the stack's
 * state lists no resource: what both the cluster tests assert at their end.
 */
export async function destroyLeavesNothing(
  test: TestStack,
  core: kube.CoreV1Api,
  namespace: string,
  timeoutMs: number,
): Promise<auto.DestroyResult> {
  const result = await test.stack.destroy({ onOutput: (s) => process.stdout.write(s) });
  await waitFor(
    `namespace ${namespace} to be gone`,
    async () => {
      try {
        await core.readNamespace({ name: namespace });
        return undefined;
      } catch (err) {
        if (statusOf(err) === 404) return true;
        throw err;
      }
    },
    { timeoutMs },
  );
  const state = await test.stack.exportStack();
  if ((state.deployment.resources ?? []).length > 0)
    throw new Error(`stack still lists ${state.deployment.resources.length} resources after destroy`);
  return result;
}
