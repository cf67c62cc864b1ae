/**
 * Writes the platform's rendered output (components/catalogue.ts) as YAML, one file per sample:
 *
 *   npm run render -- [out dir]      (default: dist/manifests)
 *
 * The pull-request workflow runs `mlops-policy check` on this directory.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { platformSamples } from "../components/catalogue";

const out = path.resolve(process.argv[2] ?? "dist/manifests");
rmSync(out, { recursive: true, force: true });
let objects = 0;
const samples = platformSamples();
for (const s of samples) {
  const file = path.join(out, `${s.name}.yaml`);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, s.objects.map((o) => stringify(o)).join("---\n"));
  objects += s.objects.length;
}
console.log(
  `render: ${samples.length} samples, ${objects} objects -> ${path.relative(process.cwd(), out) || "."}`,
);
