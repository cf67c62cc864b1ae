/**
 * mlops-policy: checks Kubernetes manifests (files, directories, stdin `-`) against every rule.
 *
 *   mlops-policy check <path|-> ... [--format text|json|sarif|junit] [--output FILE]
 *   mlops-policy rules
 *
 * Exit codes: 0 no unwaived mandatory finding; 1 mandatory findings; 2 bad usage or unreadable input.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { subjectsFromText } from "./adapters/manifests";
import { evaluate } from "./engine/evaluate";
import type { Subject } from "./engine/types";
import {
  docPath,
  FORMATS,
  type Format,
  formatJson,
  formatJunit,
  formatSarif,
  formatText,
} from "./report/formats";
import { allRules } from "./rules";

const USAGE =
  "usage: mlops-policy check <path|-> ... [--format text|json|sarif|junit] [--output FILE] | mlops-policy rules";
const MANIFEST = /\.(ya?ml|json)$/i;

class UsageError extends Error {}

function manifestFiles(p: string): string[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(p);
  } catch {
    throw new UsageError(`path '${p}' does not exist`);
  }
  if (!st.isDirectory()) return [p];
  return readdirSync(p, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && MANIFEST.test(e.name))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

export interface CliIo {
  readonly stdin: () => string;
  readonly out: (text: string) => void;
}

const processIo: CliIo = {
  stdin: () => readFileSync(0, "utf8"),
  out: (text) => {
    process.stdout.write(text);
  },
};

export function run(argv: readonly string[], io: CliIo = processIo): number {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      format: { type: "string", default: "text" },
      output: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...paths] = positionals;
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  if (command === "rules") {
    for (const r of allRules)
      io.out(
        `${r.id.padEnd(36)} ${r.enforcement.padEnd(9)} ${r.severity.padEnd(8)} ${r.title}  (${docPath(r)})\n`,
      );
    io.out(`${allRules.length} rules\n`);
    return 0;
  }
  if (command !== "check") throw new UsageError(`unknown command '${command ?? ""}'; ${USAGE}`);
  const format = values.format as Format;
  if (!FORMATS.includes(format))
    throw new UsageError(`--format ${format} is not one of ${FORMATS.join(", ")}`);
  if (paths.length === 0) throw new UsageError(`check needs at least one path (or - for stdin); ${USAGE}`);

  const subjects: Subject[] = [];
  const inputErrors: string[] = [];
  for (const p of paths) {
    const files = p === "-" ? ["-"] : manifestFiles(p);
    for (const file of files) {
      const parsed = subjectsFromText(
        file === "-" ? io.stdin() : readFileSync(file, "utf8"),
        file === "-" ? "<stdin>" : file,
      );
      subjects.push(...parsed.subjects);
      inputErrors.push(...parsed.errors);
    }
  }
  const report = evaluate(subjects, allRules);
  const full = { ...report, errors: [...inputErrors, ...report.errors] };
  const text =
    format === "json"
      ? formatJson(full)
      : format === "sarif"
        ? formatSarif(full, allRules)
        : format === "junit"
          ? formatJunit(full)
          : formatText(full);
  if (values.output) writeFileSync(values.output, text);
  else io.out(text);
  if (inputErrors.length > 0) return 2;
  return report.counts.mandatory > 0 ? 1 : 0;
}

if (require.main === module) {
  try {
    process.exitCode = run(process.argv.slice(2));
  } catch (err) {
    console.error(`mlops-policy: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  }
}
