#!/usr/bin/env node
// The runtime's CLI through tsx (no build step). `mlops serve` runs the service.
require("tsx/cjs");
const argv = process.argv.slice(2);
if (argv[0] === "serve") {
  const { serve } = require("../src/serve.ts");
  serve(process.env).then(
    (rt) => {
      const stop = () => rt.stop().then(() => process.exit(0));
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    },
    (err) => {
      console.error(`mlops serve: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(2);
    },
  );
} else {
  const { run, CliError } = require("../src/cli/mlops.ts");
  run(argv, { env: process.env, out: (l) => console.log(l) }).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(`mlops: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = err instanceof CliError ? err.code : 2;
    },
  );
}
