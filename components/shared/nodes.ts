import { PROJECT_DOMAIN } from "./labels";

/**
 * How node pools are named on nodes. Cloud node groups (infra/) and the local cluster
 * (scripts/lib/local-cluster.ts) set this label; components select pools through it.
 */
export const NODE_POOL_LABEL = `${PROJECT_DOMAIN}/node-pool`;

/** The pool roles the platform knows. GPU pools additionally carry GPU_NODE_LABEL and GPU_TAINT. */
export type NodePoolRole = "system" | "cpu" | "gpu";

/**
 * Taint on system nodes, so only cluster add-ons (which tolerate it) land there. The same key EKS
 * and AKS document for system pools.
 */
export const SYSTEM_TAINT = { key: "CriticalAddonsOnly", value: "true", effect: "NoSchedule" } as const;
