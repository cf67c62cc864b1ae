/**
 * Building blocks every chart's pods share, so Pod Security `restricted` and our probes, volumes
 * and NetworkPolicies are spelled once. https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */

/** Pod-level security context for Pod Security `restricted`, running as `uid`. */
export function restrictedPodSecurity(uid: number) {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level security context for Pod Security `restricted` with a read-only root filesystem. */
export const RESTRICTED_CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ["ALL"] },
} as const;

/** Requests and limits of one container (CPU has no limit: it throttles; memory does). */
export interface ContainerResources {
  readonly requestCpu: string;
  readonly requestMemory: string;
  readonly limitMemory: string;
}

/** The `resources` block of a container, with ephemeral storage bounded. */
export function containerResources(r: ContainerResources, ephemeral = { request: "64Mi", limit: "1Gi" }) {
  return {
    requests: { cpu: r.requestCpu, memory: r.requestMemory, "ephemeral-storage": ephemeral.request },
    limits: { memory: r.limitMemory, "ephemeral-storage": ephemeral.limit },
  };
}

/** A writable scratch folder (`emptyDir` with a size limit) for a read-only root filesystem. */
export function scratchVolume(name: string, sizeLimit = "256Mi") {
  return { name, emptyDir: { sizeLimit } };
}

export type PodLabels = Readonly<Record<string, string>>;

/** A NetworkPolicy peer: pods with these labels in the policy's namespace. */
export function podPeer(labels: PodLabels) {
  return { podSelector: { matchLabels: { ...labels } } };
}

/** The NetworkPolicy peers of a host outside the cluster network (any address: names resolve late). */
export const ANYWHERE = [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }] as const;

/** Spec of a NetworkPolicy admitting `from` pods to `selected` pods on TCP `ports`. */
export function ingressPolicySpec(selected: PodLabels, from: readonly PodLabels[], ports: readonly number[]) {
  return {
    podSelector: { matchLabels: { ...selected } },
    policyTypes: ["Ingress"],
    ingress: [{ from: from.map(podPeer), ports: ports.map((port) => ({ protocol: "TCP", port })) }],
  };
}

/** Spec of a NetworkPolicy letting `selected` pods reach `to` (peers) on TCP `ports`. */
export function egressPolicySpec(selected: PodLabels, to: readonly object[], ports: readonly number[]) {
  return {
    podSelector: { matchLabels: { ...selected } },
    policyTypes: ["Egress"],
    egress: [{ to: [...to], ports: ports.map((port) => ({ protocol: "TCP", port })) }],
  };
}

/** Labels that select one component of one instance (a subset of `recommendedLabels`). */
export function selectorLabels(name: string, instance: string, component: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/component": component,
  };
}

/** An env var read from a Secret key. */
export function secretEnv(name: string, secretName: string, key: string, optional?: boolean) {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key, ...(optional ? { optional } : {}) } } };
}

/** The `data` volume claim of a single-replica StatefulSet. */
export function dataVolumeClaim(
  labels: Readonly<Record<string, string>>,
  storage: string,
  storageClassName?: string,
) {
  return {
    metadata: { name: "data", labels: { ...labels } },
    spec: {
      accessModes: ["ReadWriteOnce"],
      ...(storageClassName ? { storageClassName } : {}),
      resources: { requests: { storage } },
    },
  };
}
