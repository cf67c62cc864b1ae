import type { TestProject } from "vitest/node";
import { clusterDown, clusterUp } from "../../scripts/lib/local-cluster";

/**
 * The cluster tier's control plane. With MLOPS_KUBECONFIG set (kind, minikube, a dev cluster) the
 * tests use that cluster and leave it alone; otherwise a local KWOK cluster named `mlops-test` is
 * created from the toolchain and deleted afterwards (MLOPS_KEEP_CLUSTER=1 keeps it for debugging).
 */
const TEST_CLUSTER = "mlops-test";

declare module "vitest" {
  export interface ProvidedContext {
    kubeconfig: string;
    /** True when the tier created the cluster (KWOK), false for MLOPS_KUBECONFIG. */
    localCluster: boolean;
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const external = process.env.MLOPS_KUBECONFIG;
  if (external) {
    console.log(`cluster tier: using MLOPS_KUBECONFIG=${external}`);
    project.provide("kubeconfig", external);
    project.provide("localCluster", false);
    return undefined;
  }
  const log = (line: string) => console.log(line);
  const paths = await clusterUp({ name: TEST_CLUSTER, log });
  project.provide("kubeconfig", paths.kubeconfig);
  project.provide("localCluster", true);
  return async () => {
    if (process.env.MLOPS_KEEP_CLUSTER === "1") {
      console.log(
        `cluster tier: keeping ${TEST_CLUSTER} (MLOPS_KEEP_CLUSTER=1); KUBECONFIG=${paths.kubeconfig}`,
      );
      return;
    }
    await clusterDown({ name: TEST_CLUSTER, log });
  };
}
