/**
 * The local cluster: `npm run cluster -- up | down | status [--name NAME]`.
 * See scripts/lib/local-cluster.ts; needs the toolchain (`npm run toolchain`).
 */
import { parseArgs } from "node:util";
import { clusterDown, clusterStatus, clusterUp, DEFAULT_CLUSTER_NAME } from "./lib/local-cluster";

const USAGE = "usage: npm run cluster -- up|down|status [--name NAME]";

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: "string", default: DEFAULT_CLUSTER_NAME },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const [command, ...rest] = positionals;
  if (rest.length > 0) throw new Error(`unexpected arguments '${rest.join(" ")}'; ${USAGE}`);
  const opts = { name: values.name };
  switch (command) {
    case "up": {
      const paths = await clusterUp(opts);
      console.log(`export KUBECONFIG=${paths.kubeconfig}`);
      return;
    }
    case "down":
      await clusterDown(opts);
      return;
    case "status": {
      const s = await clusterStatus(opts);
      console.log(`cluster ${s.name}: ${s.serving ? "running" : s.exists ? "stopped" : "absent"}`);
      console.log(`kubeconfig: ${s.kubeconfig}`);
      if (s.nodes) console.log(s.nodes.trimEnd());
      if (!s.serving) process.exitCode = 3;
      return;
    }
    default:
      throw new Error(`unknown command '${command ?? ""}'; ${USAGE}`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
