#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so the checker needs no build step.
require("tsx/cjs");
const { run } = require("../cli.ts");
try {
  process.exitCode = run(process.argv.slice(2));
} catch (err) {
  console.error(`mlops-policy: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
}
