/**
 * The one definition of how GPU nodes are marked. Node pools (cloud layer and the local cluster)
 * set exactly this label and taint; GPU workloads select and tolerate exactly these. Policies
 * compare both sides against these values.
 */
export const GPU_RESOURCE = "nvidia.com/gpu";

/** Label on every GPU node (the key the NVIDIA GPU feature discovery also sets). */
export const GPU_NODE_LABEL = { key: "nvidia.com/gpu.present", value: "true" } as const;

/** Taint on every GPU node, so only pods that ask for GPUs land there. */
export const GPU_TAINT = { key: "nvidia.com/gpu", value: "present", effect: "NoSchedule" } as const;

export interface Toleration {
  readonly key: string;
  readonly operator: "Equal" | "Exists";
  readonly value?: string;
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** The toleration a GPU workload carries. */
export function gpuToleration(): Toleration {
  return { key: GPU_TAINT.key, operator: "Equal", value: GPU_TAINT.value, effect: GPU_TAINT.effect };
}

/** The node selector a GPU workload carries. */
export function gpuNodeSelector(): Record<string, string> {
  return { [GPU_NODE_LABEL.key]: GPU_NODE_LABEL.value };
}
