import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";

/**
 * Where the offline toolchain lives, as the TypeScript side sees it. scripts/toolchain/lib.sh is
 * the one definition (folder per tool and pinned version); this asks it rather than repeating it.
 */
export const TOOLCHAIN_SCRIPTS = path.resolve(__dirname, "..", "toolchain");

export type ToolName = "etcd" | "kwok" | "kubernetes" | "pulumi" | "pulumi-kubernetes";

export interface Toolchain {
  /** Root of the cache: `$MLOPS_TOOLCHAIN_DIR`, else `$XDG_CACHE_HOME/mlops-platform/toolchain`. */
  readonly root: string;
  /** Each tool's `bin` folder at the pinned version. */
  readonly binDirs: Readonly<Record<ToolName, string>>;
  /** Tools whose build finished (their `.complete` marker exists). */
  readonly built: ReadonlySet<ToolName>;
}

let cached: Toolchain | undefined;

export function toolchain(): Toolchain {
  if (cached) return cached;
  const script = `. "${path.join(TOOLCHAIN_SCRIPTS, "lib.sh")}"
echo "root=$TOOLCHAIN_ROOT"
for t in "\${TOOLCHAIN_TOOLS[@]}"; do echo "$t=$(tool_dir "$t")"; done`;
  const out = execFileSync("bash", ["-c", script], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const entries = new Map(
    out
      .trim()
      .split("\n")
      .map((line) => {
        const i = line.indexOf("=");
        return [line.slice(0, i), line.slice(i + 1)] as const;
      }),
  );
  const root = entries.get("root");
  if (!root) throw new Error(`scripts/toolchain/lib.sh printed no TOOLCHAIN_ROOT:\n${out}`);
  entries.delete("root");
  const binDirs = {} as Record<ToolName, string>;
  const built = new Set<ToolName>();
  for (const [tool, dir] of entries) {
    binDirs[tool as ToolName] = path.join(dir, "bin");
    if (existsSync(path.join(dir, ".complete"))) built.add(tool as ToolName);
  }
  cached = { root, binDirs, built };
  return cached;
}

/** Full path of a toolchain binary, or an error saying how to build it. */
export function toolBinary(tool: ToolName, binary: string): string {
  const tc = toolchain();
  if (!tc.built.has(tool)) {
    throw new Error(
      `the toolchain's '${tool}' is not built (looked in ${path.dirname(tc.binDirs[tool])}); ` +
        `run \`npm run toolchain\` (or \`bash scripts/toolchain/build.sh ${tool}\`) first`,
    );
  }
  return path.join(tc.binDirs[tool], binary);
}

/** A PATH with every built tool's bin folder first. */
export function pathWithToolchain(base = process.env.PATH ?? ""): string {
  const tc = toolchain();
  const dirs = [...tc.built].map((t) => tc.binDirs[t]);
  return [...dirs, base].filter(Boolean).join(path.delimiter);
}

/** Reads scripts/toolchain/versions.env (KEY=value lines). */
export function pinnedVersions(): Readonly<Record<string, string>> {
  const out = execFileSync(
    "bash",
    ["-c", `set -a; . "${path.join(TOOLCHAIN_SCRIPTS, "versions.env")}"; env`],
    {
      encoding: "utf8",
      env: {},
      // bash reads ~/.bashrc when stdin is a socket (its remote-shell heuristic); give it none.
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const versions: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const m = /^([A-Z][A-Z0-9_]*_(?:VERSION|MODULE|FORK))=(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) versions[m[1]] = m[2];
  }
  return versions;
}
