import { GPU_RESOURCE, type PodSecurityLevel, Problems, parseQuantity } from "../shared";

/** Hard limits of the namespace's ResourceQuota. https://kubernetes.io/docs/concepts/policy/resource-quotas/ */
export interface NamespaceQuota {
  /** Sum of CPU requests. @default "8" */
  readonly requestsCpu?: string;
  /** Sum of memory requests. @default "32Gi" */
  readonly requestsMemory?: string;
  /** Sum of CPU limits. @default "16" */
  readonly limitsCpu?: string;
  /** Sum of memory limits. @default "64Gi" */
  readonly limitsMemory?: string;
  /** Sum of storage requested by PersistentVolumeClaims. @default "500Gi" */
  readonly requestsStorage?: string;
  /** Number of pods. @default 100 */
  readonly pods?: number;
  /** Number of PersistentVolumeClaims. @default 20 */
  readonly persistentVolumeClaims?: number;
  /**
   * GPUs (`requests.nvidia.com/gpu`) the namespace may request in total. The default 0 means a
   * namespace uses no GPU unless it is granted some here.
   * @default 0
   */
  readonly gpus?: number;
}

/** Defaults for containers that set none (LimitRange). https://kubernetes.io/docs/concepts/policy/limit-range/ */
export interface ContainerDefaults {
  /** @default "100m" */
  readonly requestCpu?: string;
  /** @default "128Mi" */
  readonly requestMemory?: string;
  /** @default "1" */
  readonly limitCpu?: string;
  /** @default "512Mi" */
  readonly limitMemory?: string;
}

/** Where cluster DNS runs, for the DNS egress allow. */
export interface DnsTarget {
  /** @default "kube-system" */
  readonly namespace?: string;
  /** @default { "k8s-app": "kube-dns" } */
  readonly podLabels?: Readonly<Record<string, string>>;
}

export interface PlatformNamespaceArgs {
  /** The namespace's name (a DNS-1123 label). */
  readonly name: string;
  /** What the namespace is for, recorded as a label (e.g. `workloads`, `serving`, `data`). @default "workloads" */
  readonly role?: string;
  /**
   * Pod Security Admission level enforced. Audit and warn stay `restricted` whatever this is, so a
   * relaxed namespace still reports every pod that is not restricted.
   * @default "restricted"
   */
  readonly podSecurity?: PodSecurityLevel;
  /** Pod Security Standards version the labels pin. @default "latest" */
  readonly podSecurityVersion?: string;
  /** ResourceQuota hard limits. @default - see NamespaceQuota */
  readonly quota?: NamespaceQuota;
  /** LimitRange container defaults. @default - see ContainerDefaults */
  readonly containerDefaults?: ContainerDefaults;
  /** Allow every pod egress to cluster DNS (UDP and TCP 53); `false` leaves DNS denied too. @default - kube-system/kube-dns */
  readonly dnsEgress?: DnsTarget | false;
  /** Extra labels on the Namespace (cannot override the Pod Security or recommended labels). @default {} */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Everything the chart needs, defaults applied. */
export interface PlatformNamespaceConfig {
  readonly name: string;
  readonly role: string;
  readonly podSecurity: PodSecurityLevel;
  readonly podSecurityVersion: string;
  /** ResourceQuota `spec.hard`, keyed as Kubernetes spells it. */
  readonly quotaHard: Readonly<Record<string, string>>;
  readonly containerDefaults: Required<ContainerDefaults>;
  readonly dnsEgress: Required<DnsTarget> | false;
  readonly labels: Readonly<Record<string, string>>;
}

export const platformNamespaceDefaults = {
  role: "workloads",
  podSecurity: "restricted",
  podSecurityVersion: "latest",
  quota: {
    requestsCpu: "8",
    requestsMemory: "32Gi",
    limitsCpu: "16",
    limitsMemory: "64Gi",
    requestsStorage: "500Gi",
    pods: 100,
    persistentVolumeClaims: 20,
    gpus: 0,
  },
  containerDefaults: { requestCpu: "100m", requestMemory: "128Mi", limitCpu: "1", limitMemory: "512Mi" },
  dnsEgress: { namespace: "kube-system", podLabels: { "k8s-app": "kube-dns" } },
} as const satisfies {
  role: string;
  podSecurity: PodSecurityLevel;
  podSecurityVersion: string;
  quota: Required<NamespaceQuota>;
  containerDefaults: Required<ContainerDefaults>;
  dnsEgress: Required<DnsTarget>;
};

const RESERVED_LABEL_PREFIXES = ["pod-security.kubernetes.io/", "app.kubernetes.io/", "kubernetes.io/"];

/**
 * Validates Args and applies defaults. Collects every problem with its property path and throws
 * one `ArgsValidationError`; nothing is created when Args are invalid.
 */
export function resolvePlatformNamespace(
  args: PlatformNamespaceArgs,
  component = "PlatformNamespace",
): PlatformNamespaceConfig {
  const p = new Problems();
  p.dnsLabel("name", args?.name);
  if (args?.role !== undefined) p.dnsLabel("role", args.role);
  p.oneOf("podSecurity", args?.podSecurity, ["restricted", "baseline", "privileged"] as const);
  if (args?.podSecurityVersion !== undefined && !/^(latest|v1\.\d+)$/.test(String(args.podSecurityVersion))) {
    p.add(
      "podSecurityVersion",
      args.podSecurityVersion,
      'must be "latest" or a Kubernetes minor like "v1.34".',
      'use "latest" or "v1.34".',
    );
  }

  const quota = { ...platformNamespaceDefaults.quota, ...(args?.quota ?? {}) };
  for (const key of [
    "requestsCpu",
    "requestsMemory",
    "limitsCpu",
    "limitsMemory",
    "requestsStorage",
  ] as const) {
    p.quantity(`quota.${key}`, quota[key]);
  }
  p.integer("quota.pods", quota.pods, 0);
  p.integer("quota.persistentVolumeClaims", quota.persistentVolumeClaims, 0);
  p.integer("quota.gpus", quota.gpus, 0);
  requestWithinLimit(p, "quota.requestsCpu", quota.requestsCpu, "quota.limitsCpu", quota.limitsCpu);
  requestWithinLimit(
    p,
    "quota.requestsMemory",
    quota.requestsMemory,
    "quota.limitsMemory",
    quota.limitsMemory,
  );

  const defaults = { ...platformNamespaceDefaults.containerDefaults, ...(args?.containerDefaults ?? {}) };
  for (const key of ["requestCpu", "requestMemory", "limitCpu", "limitMemory"] as const) {
    p.quantity(`containerDefaults.${key}`, defaults[key], { positive: true });
  }
  requestWithinLimit(
    p,
    "containerDefaults.requestCpu",
    defaults.requestCpu,
    "containerDefaults.limitCpu",
    defaults.limitCpu,
  );
  requestWithinLimit(
    p,
    "containerDefaults.requestMemory",
    defaults.requestMemory,
    "containerDefaults.limitMemory",
    defaults.limitMemory,
  );

  let dnsEgress: PlatformNamespaceConfig["dnsEgress"] = false;
  if (args?.dnsEgress !== false) {
    dnsEgress = {
      namespace: args?.dnsEgress?.namespace ?? platformNamespaceDefaults.dnsEgress.namespace,
      podLabels: args?.dnsEgress?.podLabels ?? platformNamespaceDefaults.dnsEgress.podLabels,
    };
    p.dnsLabel("dnsEgress.namespace", dnsEgress.namespace);
    if (Object.keys(dnsEgress.podLabels).length === 0) {
      p.add(
        "dnsEgress.podLabels",
        dnsEgress.podLabels,
        "selects every pod in the DNS namespace.",
        'give the DNS pods\' labels, e.g. { "k8s-app": "kube-dns" }.',
      );
    }
  }

  for (const key of Object.keys(args?.labels ?? {})) {
    const reserved = RESERVED_LABEL_PREFIXES.find((prefix) => key.startsWith(prefix));
    if (reserved) {
      p.add(
        `labels["${key}"]`,
        args.labels?.[key],
        `uses the reserved prefix "${reserved}", which the component sets itself.`,
        "remove it, or use podSecurity / role instead.",
      );
    }
  }

  p.throwIfAny(args?.name ? `${component} "${args.name}"` : component);

  return {
    name: args.name,
    role: args.role ?? platformNamespaceDefaults.role,
    podSecurity: args.podSecurity ?? platformNamespaceDefaults.podSecurity,
    podSecurityVersion: args.podSecurityVersion ?? platformNamespaceDefaults.podSecurityVersion,
    quotaHard: {
      "requests.cpu": quota.requestsCpu,
      "requests.memory": quota.requestsMemory,
      "limits.cpu": quota.limitsCpu,
      "limits.memory": quota.limitsMemory,
      "requests.storage": quota.requestsStorage,
      pods: String(quota.pods),
      persistentvolumeclaims: String(quota.persistentVolumeClaims),
      [`requests.${GPU_RESOURCE}`]: String(quota.gpus),
    },
    containerDefaults: defaults,
    dnsEgress,
    labels: { ...(args.labels ?? {}) },
  };
}

function requestWithinLimit(
  p: Problems,
  requestPath: string,
  request: string,
  limitPath: string,
  limit: string,
): void {
  const r = parseQuantity(request);
  const l = parseQuantity(limit);
  if (r !== undefined && l !== undefined && r >= 0 && l >= 0 && r > l) {
    p.add(
      requestPath,
      request,
      `is more than ${limitPath} (${JSON.stringify(limit)}).`,
      `lower it to at most ${JSON.stringify(limit)} or raise ${limitPath}.`,
    );
  }
}
