import { describe, expect, it } from "vitest";
import {
  GPU_NODE_LABEL,
  GPU_RESOURCE,
  GPU_TAINT,
  NODE_POOL_LABEL,
  SYSTEM_TAINT,
} from "../../../components/shared";
import { DEFAULT_NODE_POOLS, localClusterNodes } from "../../../scripts/lib/local-cluster";

type Node = {
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: { taints: { key: string; value: string; effect: string }[] };
  status: { allocatable: Record<string, string> };
};

describe("local cluster nodes", () => {
  const nodes = localClusterNodes() as unknown as Node[];
  const byPool = (role: string) => nodes.filter((n) => n.metadata.labels[NODE_POOL_LABEL] === role);

  it("has system, CPU and GPU pools of the default sizes", () => {
    expect(nodes.map((n) => n.metadata.name)).toEqual(["system-0", "cpu-0", "cpu-1", "gpu-0", "gpu-1"]);
    expect(DEFAULT_NODE_POOLS.reduce((sum, p) => sum + p.count, 0)).toBe(nodes.length);
  });

  it("GPU nodes carry the platform's GPU label, taint and nvidia.com/gpu allocatable", () => {
    for (const node of byPool("gpu")) {
      expect(node.metadata.labels[GPU_NODE_LABEL.key]).toBe(GPU_NODE_LABEL.value);
      expect(node.spec.taints).toEqual([
        { key: GPU_TAINT.key, value: GPU_TAINT.value, effect: GPU_TAINT.effect },
      ]);
      expect(node.status.allocatable[GPU_RESOURCE]).toBe("4");
    }
  });

  it("CPU nodes have no GPU label, taint or resource; system nodes carry the system taint", () => {
    for (const node of byPool("cpu")) {
      expect(node.metadata.labels[GPU_NODE_LABEL.key]).toBeUndefined();
      expect(node.spec.taints).toEqual([]);
      expect(node.status.allocatable[GPU_RESOURCE]).toBeUndefined();
    }
    expect(byPool("system")[0]?.spec.taints).toEqual([{ ...SYSTEM_TAINT }]);
  });

  it("every node is managed by KWOK", () => {
    for (const node of nodes) expect(node.metadata.annotations["kwok.x-k8s.io/node"]).toBe("fake");
  });

  it("rejects a GPU pool without GPUs and a negative count, naming the pool and the fix", () => {
    expect(() =>
      localClusterNodes([{ role: "gpu", count: 1, cpu: "8", memory: "8Gi", ephemeralStorage: "10Gi" }]),
    ).toThrow(/node pool 'gpu': gpus must be >= 1 per node, got undefined; set gpus/);
    expect(() =>
      localClusterNodes([{ role: "cpu", count: -1, cpu: "8", memory: "8Gi", ephemeralStorage: "10Gi" }]),
    ).toThrow(/node pool 'cpu': count must be a whole number >= 0, got -1/);
  });
});
