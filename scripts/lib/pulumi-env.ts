import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as auto from "@pulumi/pulumi/automation";
import { pathWithToolchain, toolchain } from "./toolchain";

/**
 * The one place that says how the Pulumi CLI runs on this project's machines: offline, with a
 * local file backend, a private PULUMI_HOME, no update check and no plugin downloads. Scripts,
 * the cluster test tier and (later) the environment stacks all take their environment from here.
 */

/** Where the CLI keeps state unless told otherwise: `$MLOPS_STATE_DIR`, else XDG state. */
export function defaultStateDir(): string {
  return (
    process.env.MLOPS_STATE_DIR ??
    path.join(process.env.XDG_STATE_HOME ?? path.join(os.homedir(), ".local", "state"), "mlops-platform")
  );
}

export interface PulumiCli {
  /** Absolute path of the `pulumi` binary. */
  readonly command: string;
  /** The folder the Automation API's `PulumiCommand.get({ root })` takes (the binary is `<root>/bin/pulumi`). */
  readonly root: string;
  /** Where it came from: the built toolchain, `$PULUMI_CLI`, or the user's PATH. */
  readonly source: "toolchain" | "PULUMI_CLI" | "PATH";
}

/**
 * Finds the CLI: `$PULUMI_CLI` if set, else the built toolchain, else `pulumi` on PATH (an ordinary
 * laptop with Pulumi installed). Fails with the two ways to get one.
 */
export function resolvePulumiCli(): PulumiCli {
  const explicit = process.env.PULUMI_CLI;
  if (explicit) {
    if (!existsSync(explicit))
      throw new Error(`PULUMI_CLI=${explicit} does not exist; unset it or point it at a pulumi binary`);
    return { command: explicit, root: path.dirname(path.dirname(explicit)), source: "PULUMI_CLI" };
  }
  const tc = toolchain();
  if (tc.built.has("pulumi")) {
    const command = path.join(tc.binDirs.pulumi, "pulumi");
    return { command, root: path.dirname(tc.binDirs.pulumi), source: "toolchain" };
  }
  try {
    const found = execFileSync("bash", ["-c", "command -v pulumi"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    if (found) return { command: found, root: path.dirname(path.dirname(found)), source: "PATH" };
  } catch {
    // not on PATH: fall through to the error below, which says what to do
  }
  throw new Error(
    "no Pulumi CLI: build the offline toolchain with `npm run toolchain`, or install Pulumi " +
      "(https://www.pulumi.com/docs/install/) so `pulumi` is on PATH, or set PULUMI_CLI",
  );
}

export interface OfflinePulumiEnv {
  /** Environment variables for the CLI (merge over process.env). */
  readonly env: Readonly<Record<string, string>>;
  /** `file://` URL of the state backend. */
  readonly backendUrl: string;
  readonly pulumiHome: string;
  readonly cli: PulumiCli;
}

/**
 * The environment for running the Pulumi CLI offline against state under `stateDir`.
 *
 * The passphrase that encrypts stack secrets is never a literal here: if the caller's environment
 * has PULUMI_CONFIG_PASSPHRASE(_FILE) it is kept; otherwise a random one is generated once into
 * `<stateDir>/passphrase` (mode 0600) and passed by file.
 */
export function offlinePulumiEnv(stateDir = defaultStateDir()): OfflinePulumiEnv {
  const backendDir = path.join(stateDir, "backend");
  const pulumiHome = path.join(stateDir, "pulumi-home");
  mkdirSync(backendDir, { recursive: true, mode: 0o700 });
  mkdirSync(pulumiHome, { recursive: true, mode: 0o700 });
  const cli = resolvePulumiCli();

  const env: Record<string, string> = {
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_HOME: pulumiHome,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    // Plugins come from PATH: the toolchain's provider binaries and @pulumi/pulumi's dynamic
    // provider launcher (pulumi-resource-pulumi-nodejs). PULUMI_IGNORE_AMBIENT_PLUGINS stays unset.
    // The launcher runs `node` and resolves @pulumi/pulumi from its working folder, which for a
    // stack outside this checkout finds nothing: give it this Node and this node_modules.
    PATH: [
      path.dirname(cli.command),
      dynamicProviderDir(),
      path.dirname(process.execPath),
      pathWithToolchain(),
    ].join(path.delimiter),
    NODE_PATH: [path.resolve(dynamicProviderDir(), "..", ".."), process.env.NODE_PATH]
      .filter(Boolean)
      .join(path.delimiter),
  };
  if (!process.env.PULUMI_CONFIG_PASSPHRASE && !process.env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    const file = path.join(stateDir, "passphrase");
    if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600 });
    env.PULUMI_CONFIG_PASSPHRASE_FILE = file;
  }
  return { env, backendUrl: env.PULUMI_BACKEND_URL as string, pulumiHome, cli };
}

/** The folder of `@pulumi/pulumi`, which ships the `pulumi-resource-pulumi-nodejs` launcher. */
function dynamicProviderDir(): string {
  return path.dirname(require.resolve("@pulumi/pulumi/package.json"));
}

/**
 * A stack of an inline program (Automation API), run through the real CLI with the offline
 * settings and its state under `dir/state`; the program runs in this process.
 */
export async function inlineStack(
  dir: string,
  projectName: string,
  stackName: string,
  program: auto.PulumiFn,
): Promise<{ stack: auto.Stack; env: OfflinePulumiEnv }> {
  const env = offlinePulumiEnv(path.join(dir, "state"));
  const workDir = path.join(dir, "work");
  mkdirSync(workDir, { recursive: true });
  const stack = await auto.LocalWorkspace.createOrSelectStack(
    { stackName, projectName, program },
    {
      pulumiCommand: await auto.PulumiCommand.get({ root: env.cli.root }),
      workDir,
      envVars: { ...env.env },
      projectSettings: { name: projectName, runtime: "nodejs", backend: { url: env.backendUrl } },
    },
  );
  return { stack, env };
}
