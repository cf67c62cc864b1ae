import { Chart } from "cdk8s";
import { k8s } from "cdk8s-plus-34";
import type { Construct } from "constructs";
import { LabelKeys, PodSecurityLabels, recommendedLabels } from "../shared";
import type { PlatformNamespaceConfig } from "./config";

/** Names of the objects inside the namespace; stable, so policies and tests can refer to them. */
export const PlatformNamespaceObjectNames = {
  quota: "platform-quota",
  limitRange: "platform-limits",
  defaultDeny: "default-deny-all",
  dnsEgress: "allow-dns-egress",
} as const;

/**
 * A namespace fit for platform workloads: Pod Security Admission labels, a ResourceQuota and
 * LimitRange, a default-deny NetworkPolicy for ingress and egress, and an egress allow to cluster
 * DNS. Pure: static config in, Kubernetes objects out.
 */
export class PlatformNamespaceChart extends Chart {
  constructor(scope: Construct, id: string, config: PlatformNamespaceConfig) {
    super(scope, id, { disableResourceNameHashes: true });
    const name = config.name;
    const labels = (component: string) =>
      recommendedLabels({ name: "platform-namespace", instance: name, component });

    new k8s.KubeNamespace(this, "namespace", {
      metadata: {
        name,
        labels: {
          ...config.labels,
          ...labels("namespace"),
          [LabelKeys.namespaceRole]: config.role,
          [PodSecurityLabels.enforce]: config.podSecurity,
          [PodSecurityLabels.enforceVersion]: config.podSecurityVersion,
          [PodSecurityLabels.audit]: "restricted",
          [PodSecurityLabels.auditVersion]: config.podSecurityVersion,
          [PodSecurityLabels.warn]: "restricted",
          [PodSecurityLabels.warnVersion]: config.podSecurityVersion,
        },
      },
    });

    new k8s.KubeResourceQuota(this, "quota", {
      metadata: { name: PlatformNamespaceObjectNames.quota, namespace: name, labels: labels("quota") },
      spec: {
        hard: Object.fromEntries(
          Object.entries(config.quotaHard).map(([k, v]) => [k, k8s.Quantity.fromString(v)]),
        ),
      },
    });

    const d = config.containerDefaults;
    new k8s.KubeLimitRange(this, "limits", {
      metadata: { name: PlatformNamespaceObjectNames.limitRange, namespace: name, labels: labels("limits") },
      spec: {
        limits: [
          {
            type: "Container",
            defaultRequest: {
              cpu: k8s.Quantity.fromString(d.requestCpu),
              memory: k8s.Quantity.fromString(d.requestMemory),
            },
            default: {
              cpu: k8s.Quantity.fromString(d.limitCpu),
              memory: k8s.Quantity.fromString(d.limitMemory),
            },
          },
        ],
      },
    });

    // An empty podSelector selects every pod; listing both policy types with no rules denies all.
    new k8s.KubeNetworkPolicy(this, "default-deny", {
      metadata: {
        name: PlatformNamespaceObjectNames.defaultDeny,
        namespace: name,
        labels: labels("network-policy"),
      },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });

    if (config.dnsEgress) {
      new k8s.KubeNetworkPolicy(this, "dns-egress", {
        metadata: {
          name: PlatformNamespaceObjectNames.dnsEgress,
          namespace: name,
          labels: labels("network-policy"),
        },
        spec: {
          podSelector: {},
          policyTypes: ["Egress"],
          egress: [
            {
              to: [
                {
                  namespaceSelector: {
                    matchLabels: { "kubernetes.io/metadata.name": config.dnsEgress.namespace },
                  },
                  podSelector: { matchLabels: { ...config.dnsEgress.podLabels } },
                },
              ],
              ports: [
                { protocol: "UDP", port: k8s.IntOrString.fromNumber(53) },
                { protocol: "TCP", port: k8s.IntOrString.fromNumber(53) },
              ],
            },
          ],
        },
      });
    }
  }
}
