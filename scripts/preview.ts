/**
 * `pulumi preview` of the platform's components with the CrossGuard pack, against the local
 * cluster (or MLOPS_KUBECONFIG), through the real CLI and the offline settings:
 *
 *   npm run preview        (needs `npm run toolchain` and `npm run cluster -- up`)
 *
 * Prints every policy finding and exits 1 on a mandatory one: the pull-request workflow's
 * "preview with the pack" step. State lives in a throwaway folder; nothing is deployed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import type * as auto from "@pulumi/pulumi/automation";
import { PlatformNamespace } from "../components/platform-namespace";
import { composeDataServices } from "../examples/data-services";
import { localClusterPaths } from "./lib/local-cluster";
import { inlineStack } from "./lib/pulumi-env";

const PACK = path.resolve(__dirname, "../policies/crossguard/mlops-policy-pack");

async function main(): Promise<number> {
  const kubeconfig = process.env.MLOPS_KUBECONFIG ?? localClusterPaths().kubeconfig;
  if (!existsSync(kubeconfig))
    throw new Error(`no kubeconfig at ${kubeconfig}. Fix: npm run cluster -- up, or set MLOPS_KUBECONFIG`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-preview-"));
  try {
    const program: auto.PulumiFn = async () => {
      const provider = new k8s.Provider("target", { kubeconfig: readFileSync(kubeconfig, "utf8") });
      new PlatformNamespace("training", { name: "training", quota: { gpus: 8 } }, { providers: [provider] });
      new PlatformNamespace("serving", { name: "serving", role: "serving" }, { providers: [provider] });
      composeDataServices({ namespace: "mlops-data" }, { providers: [provider] });
    };
    const { stack } = await inlineStack(dir, "mlops-platform-preview", "preview", program);
    const findings: auto.PolicyEvent[] = [];
    let failed: unknown;
    try {
      await stack.preview({
        policyPacks: [PACK],
        onOutput: (s) => process.stdout.write(s),
        onEvent: (e) => {
          if (e.policyEvent) findings.push(e.policyEvent);
        },
      });
    } catch (err) {
      failed = err;
    }
    const mandatory = findings.filter((f) => f.enforcementLevel === "mandatory").length;
    console.log(
      `preview: ${findings.length} policy findings (${mandatory} mandatory, ${findings.length - mandatory} advisory)`,
    );
    if (failed && mandatory === 0) throw failed;
    return mandatory > 0 ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`preview: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
