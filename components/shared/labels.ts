/**
 * Label and annotation keys used across the platform. The project's own keys live under one
 * domain prefix, defined here once; `policies/` imports these so rules and renderings agree.
 * Recommended labels: https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/
 */
export const PROJECT_DOMAIN = "mlops-platform.io";
export const PART_OF = "mlops-platform";

export const LabelKeys = {
  name: "app.kubernetes.io/name",
  instance: "app.kubernetes.io/instance",
  component: "app.kubernetes.io/component",
  partOf: "app.kubernetes.io/part-of",
  managedBy: "app.kubernetes.io/managed-by",
  /** Marks a namespace as created by PlatformNamespace, with its role (e.g. `workloads`). */
  namespaceRole: `${PROJECT_DOMAIN}/namespace-role`,
} as const;

/** Pod Security Admission labels: https://kubernetes.io/docs/concepts/security/pod-security-admission/ */
export const PodSecurityLabels = {
  enforce: "pod-security.kubernetes.io/enforce",
  enforceVersion: "pod-security.kubernetes.io/enforce-version",
  audit: "pod-security.kubernetes.io/audit",
  auditVersion: "pod-security.kubernetes.io/audit-version",
  warn: "pod-security.kubernetes.io/warn",
  warnVersion: "pod-security.kubernetes.io/warn-version",
} as const;

export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

export interface RecommendedLabelsInput {
  /** What the application is, e.g. `mlflow`. */
  readonly name: string;
  /** Which installation of it, e.g. the component's Pulumi name. */
  readonly instance: string;
  /** Its role inside the application, e.g. `tracking-server`. */
  readonly component?: string;
}

/** The `app.kubernetes.io/*` labels every object we render carries. */
export function recommendedLabels(input: RecommendedLabelsInput): Record<string, string> {
  return {
    [LabelKeys.name]: input.name,
    [LabelKeys.instance]: input.instance,
    ...(input.component ? { [LabelKeys.component]: input.component } : {}),
    [LabelKeys.partOf]: PART_OF,
    [LabelKeys.managedBy]: PART_OF,
  };
}
