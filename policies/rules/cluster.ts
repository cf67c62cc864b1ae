import { GPU_NODE_LABEL, GPU_RESOURCE, GPU_TAINT } from "../../components/shared/gpu";
import { LabelKeys, PodSecurityLabels } from "../../components/shared/labels";
import type { Rule, Subject, Violation } from "../engine/types";
import {
  arr,
  containerRule,
  containers,
  get,
  isWorkload,
  kindIs,
  labelsOf,
  obj,
  podRule,
  podSpec,
  podTemplateLabels,
  rule,
  selects,
} from "./helpers";

/** Network, RBAC, secrets, namespaces and the GPU rules no other library has. */

// ---- network and mesh -------------------------------------------------------------------------

function isDefaultDeny(np: Subject): boolean {
  const spec = obj(get(np.object, "spec")) ?? {};
  const selector = obj(spec.podSelector);
  // An empty selector ({} or empty matchLabels/matchExpressions) selects every pod.
  const selectsAll =
    selector !== undefined &&
    Object.values(selector).every((v) => Object.keys(obj(v) ?? {}).length === 0 && arr(v).length === 0);
  const types = arr(spec.policyTypes);
  return (
    selectsAll &&
    types.includes("Ingress") &&
    types.includes("Egress") &&
    arr(spec.ingress).length === 0 &&
    arr(spec.egress).length === 0
  );
}

const networkRules: Rule[] = [
  rule({
    id: "namespace-default-deny",
    title: "Every namespace has a default-deny NetworkPolicy for ingress and egress",
    severity: "high",
    enforcement: "mandatory",
    category: "network",
    fix: "Add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] and no rules (PlatformNamespace does).",
    applies: kindIs("Namespace"),
    check: (ns, ctx) =>
      ctx.inNamespace("NetworkPolicy", ns.name).some((np) => isDefaultDeny(np))
        ? []
        : [{ path: "metadata.name", message: `namespace ${ns.name} has no default-deny NetworkPolicy` }],
  }),
  rule({
    id: "namespace-allows-dns-egress",
    title: "Namespaces that deny egress still allow DNS",
    severity: "low",
    enforcement: "advisory",
    category: "network",
    fix: "Add an egress NetworkPolicy allowing UDP and TCP port 53 to kube-dns.",
    applies: kindIs("Namespace"),
    check: (ns, ctx) => {
      const policies = ctx.inNamespace("NetworkPolicy", ns.name);
      if (!policies.some(isDefaultDeny)) return [];
      const dns = policies.some((np) =>
        arr(get(np.object, "spec.egress")).some((e) =>
          arr(obj(e)?.ports).some((p) => Number(obj(p)?.port) === 53),
        ),
      );
      return dns
        ? []
        : [{ path: "metadata.name", message: `namespace ${ns.name} denies egress without a DNS allow` }];
    },
  }),
  rule({
    id: "pod-selected-by-network-policy",
    title: "Every workload's pods are selected by a NetworkPolicy",
    severity: "medium",
    enforcement: "mandatory",
    category: "network",
    fix: "Deploy into a namespace with a default-deny policy and add allows for the pod's real peers.",
    check: (s, ctx) => {
      const labels = podTemplateLabels(s);
      const covered = ctx
        .inNamespace("NetworkPolicy", s.namespace)
        .some((np) => selects(get(np.object, "spec.podSelector"), labels));
      return covered
        ? []
        : [
            {
              path: "metadata.labels",
              message: `no NetworkPolicy in ${s.namespace || "its namespace"} selects ${s.kind} ${s.name}`,
            },
          ];
    },
  }),
  rule({
    id: "network-policy-not-dangling",
    title: "NetworkPolicies select some workload",
    severity: "low",
    enforcement: "advisory",
    category: "network",
    fix: "Fix the podSelector labels or remove the policy.",
    applies: kindIs("NetworkPolicy"),
    check: (np, ctx) => {
      const selector = get(np.object, "spec.podSelector");
      if (Object.keys(obj(selector) ?? {}).length === 0) return [];
      const hit = ctx.workloadsIn(np.namespace).some((s) => selects(selector, podTemplateLabels(s)));
      return hit
        ? []
        : [
            {
              path: "spec.podSelector",
              message: `NetworkPolicy ${np.name} selects no workload in the input`,
            },
          ];
    },
  }),
  rule({
    id: "service-no-node-port",
    title: "Services are not NodePort",
    severity: "medium",
    enforcement: "mandatory",
    category: "network",
    fix: "Use ClusterIP behind the mesh ingress gateway.",
    applies: kindIs("Service"),
    check: (s) =>
      get(s.object, "spec.type") === "NodePort"
        ? [{ path: "spec.type", message: "Service is NodePort" }]
        : [],
  }),
  rule({
    id: "service-no-load-balancer",
    title: "Services are not LoadBalancers unless waived",
    severity: "high",
    enforcement: "mandatory",
    category: "network",
    fix: "Expose through the ingress gateway; waive (owner, reason, expiry) for the one gateway Service.",
    applies: kindIs("Service"),
    check: (s) =>
      get(s.object, "spec.type") === "LoadBalancer"
        ? [{ path: "spec.type", message: "Service is a LoadBalancer" }]
        : [],
  }),
  rule({
    id: "service-no-external-ips",
    title: "Services set no externalIPs",
    severity: "high",
    enforcement: "mandatory",
    category: "network",
    unwaivable: true,
    fix: "Remove spec.externalIPs (CVE-2020-8554).",
    applies: kindIs("Service"),
    check: (s) =>
      arr(get(s.object, "spec.externalIPs")).length
        ? [{ path: "spec.externalIPs", message: "Service sets externalIPs" }]
        : [],
  }),
  rule({
    id: "ingress-tls",
    title: "Ingresses terminate TLS",
    severity: "medium",
    enforcement: "mandatory",
    category: "network",
    fix: "Add spec.tls with a certificate Secret for every host.",
    applies: kindIs("Ingress"),
    check: (s) =>
      arr(get(s.object, "spec.tls")).length ? [] : [{ path: "spec.tls", message: "Ingress has no TLS" }],
  }),
  rule({
    id: "istio-peer-authentication-strict",
    title: "Istio PeerAuthentication is STRICT",
    severity: "high",
    enforcement: "mandatory",
    category: "network",
    fix: "Set spec.mtls.mode: STRICT.",
    applies: kindIs("PeerAuthentication"),
    check: (s) => {
      const mode = get(s.object, "spec.mtls.mode");
      return mode === "STRICT"
        ? []
        : [{ path: "spec.mtls.mode", message: `mTLS mode is ${String(mode ?? "unset")}` }];
    },
  }),
  rule({
    id: "istio-no-wildcard-hosts",
    title: "Istio Gateways and VirtualServices name their hosts",
    severity: "medium",
    enforcement: "mandatory",
    category: "network",
    fix: "Replace '*' with the real host names.",
    applies: kindIs("Gateway", "VirtualService"),
    check: (s) => {
      const hosts =
        s.kind === "Gateway"
          ? arr(get(s.object, "spec.servers")).flatMap((sv) => arr(obj(sv)?.hosts))
          : arr(get(s.object, "spec.hosts"));
      return hosts.some((h) => h === "*" || String(h).endsWith("/*"))
        ? [{ path: s.kind === "Gateway" ? "spec.servers" : "spec.hosts", message: "wildcard host" }]
        : [];
    },
  }),
];

// ---- RBAC --------------------------------------------------------------------------------------

const isRole = kindIs("Role", "ClusterRole");
const isBinding = kindIs("RoleBinding", "ClusterRoleBinding");

function ruleViolations(
  s: Subject,
  test: (r: { verbs: string[]; resources: string[]; groups: string[] }) => string | undefined,
): Violation[] {
  return arr(get(s.object, "rules")).flatMap((r, i) => {
    const o = obj(r) ?? {};
    const why = test({
      verbs: arr(o.verbs).map(String),
      resources: arr(o.resources).map(String),
      groups: arr(o.apiGroups).map(String),
    });
    return why ? [{ path: `rules[${i}]`, message: why }] : [];
  });
}

const rbacRules: Rule[] = [
  rule({
    id: "rbac-no-wildcards",
    title: "Roles grant no '*' verbs, resources or API groups",
    severity: "high",
    enforcement: "mandatory",
    category: "rbac",
    fix: "List the exact verbs, resources and API groups needed.",
    applies: isRole,
    check: (s) =>
      ruleViolations(s, (r) =>
        [...r.verbs, ...r.resources, ...r.groups].includes("*") ? "grants '*'" : undefined,
      ),
  }),
  rule({
    id: "rbac-no-secret-read",
    title: "Roles do not read Secrets broadly",
    severity: "high",
    enforcement: "advisory",
    category: "rbac",
    fix: "Mount the Secret into the pod instead, or name it in resourceNames.",
    applies: isRole,
    check: (s) =>
      arr(get(s.object, "rules")).flatMap((r, i) => {
        const o = obj(r) ?? {};
        const reads = arr(o.verbs).some((v) => ["get", "list", "watch"].includes(String(v)));
        return reads && arr(o.resources).includes("secrets") && arr(o.resourceNames).length === 0
          ? [{ path: `rules[${i}]`, message: "reads every Secret in scope" }]
          : [];
      }),
  }),
  rule({
    id: "rbac-no-escalation-verbs",
    title: "Roles grant no escalate, bind or impersonate",
    severity: "critical",
    enforcement: "mandatory",
    category: "rbac",
    fix: "Remove escalate, bind and impersonate.",
    applies: isRole,
    check: (s) =>
      ruleViolations(s, (r) =>
        r.verbs.some((v) => ["escalate", "bind", "impersonate"].includes(v))
          ? "can escalate privileges"
          : undefined,
      ),
  }),
  rule({
    id: "rbac-no-exec-attach-proxy",
    title: "Roles grant no pods/exec, pods/attach or nodes/proxy",
    severity: "high",
    enforcement: "mandatory",
    category: "rbac",
    fix: "Remove the subresource; collect logs through pods/log instead.",
    applies: isRole,
    check: (s) =>
      ruleViolations(s, (r) => {
        const bad = r.resources.filter((x) => ["pods/exec", "pods/attach", "nodes/proxy"].includes(x));
        return bad.length ? `grants ${bad.join(", ")}` : undefined;
      }),
  }),
  rule({
    id: "rbac-no-create-pods",
    title: "Roles do not create Pods directly",
    severity: "medium",
    enforcement: "advisory",
    category: "rbac",
    fix: "Create Jobs or Deployments; creating pods can run anything as any ServiceAccount in the namespace.",
    applies: isRole,
    check: (s) =>
      ruleViolations(s, (r) =>
        r.resources.includes("pods") && r.verbs.includes("create") ? "creates pods" : undefined,
      ),
  }),
  rule({
    id: "rbac-no-cluster-admin-binding",
    title: "Nothing is bound to cluster-admin",
    severity: "critical",
    enforcement: "mandatory",
    category: "rbac",
    unwaivable: true,
    fix: "Bind a Role with the exact permissions needed.",
    applies: isBinding,
    check: (s) =>
      get(s.object, "roleRef.name") === "cluster-admin"
        ? [{ path: "roleRef.name", message: "binds cluster-admin" }]
        : [],
  }),
  rule({
    id: "rbac-no-anonymous-subjects",
    title: "Nothing is bound to anonymous, unauthenticated or system:masters",
    severity: "critical",
    enforcement: "mandatory",
    category: "rbac",
    unwaivable: true,
    fix: "Bind named ServiceAccounts or groups only.",
    applies: isBinding,
    check: (s) =>
      arr(get(s.object, "subjects")).flatMap((x, i) =>
        ["system:anonymous", "system:unauthenticated", "system:masters"].includes(String(obj(x)?.name))
          ? [{ path: `subjects[${i}].name`, message: `binds ${String(obj(x)?.name)}` }]
          : [],
      ),
  }),
  podRule({
    id: "pod-no-default-service-account",
    title: "Workloads run under their own ServiceAccount",
    severity: "medium",
    enforcement: "mandatory",
    category: "rbac",
    fix: "Create a ServiceAccount for the workload and set serviceAccountName.",
    checkPod: (pod) => {
      const sa = pod.spec.serviceAccountName;
      return sa === undefined || sa === "default"
        ? [{ path: `${pod.path}.serviceAccountName`, message: "uses the default ServiceAccount" }]
        : [];
    },
  }),
  podRule({
    id: "pod-no-automount-token",
    title: "Pods do not mount a ServiceAccount token unless they set it explicitly",
    severity: "low",
    enforcement: "advisory",
    category: "rbac",
    fix: "Set automountServiceAccountToken: false, or true where the pod calls the API.",
    checkPod: (pod) =>
      pod.spec.automountServiceAccountToken === undefined
        ? [{ path: `${pod.path}.automountServiceAccountToken`, message: "mounts a token by default" }]
        : [],
  }),
  rule({
    id: "service-account-exists",
    title: "ServiceAccounts that workloads name exist",
    severity: "medium",
    enforcement: "mandatory",
    category: "rbac",
    fix: "Add the ServiceAccount to the same stack or manifest set (or fix the name).",
    check: (s, ctx) => {
      const name = get(podSpec(s)?.spec, "serviceAccountName");
      if (name === undefined || name === "default") return [];
      const exists = ctx
        .byKind("ServiceAccount")
        .some((sa) => sa.name === name && sa.namespace === s.namespace);
      return exists
        ? []
        : [
            {
              path: `${podSpec(s)?.path}.serviceAccountName`,
              message: `ServiceAccount ${String(name)} is not defined`,
            },
          ];
    },
  }),
];

// ---- secrets, metadata and namespaces --------------------------------------------------------

const SECRET_NAME = /(PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIAL)/i;

const metadataRules: Rule[] = [
  containerRule({
    id: "env-no-secret-literals",
    title: "No secret-looking values as env literals",
    severity: "critical",
    enforcement: "mandatory",
    category: "secrets",
    unwaivable: true,
    fix: "Use env[].valueFrom.secretKeyRef (or envFrom a Secret).",
    checkContainer: (c) => {
      const i = arr(c.container.env).findIndex((e) => {
        const o = obj(e);
        return (
          o !== undefined && SECRET_NAME.test(String(o.name)) && typeof o.value === "string" && o.value !== ""
        );
      });
      return i < 0
        ? undefined
        : {
            path: `${c.path}.env[${i}].value`,
            message: `container '${c.name}' sets ${String(obj(arr(c.container.env)[i])?.name)} as a literal`,
          };
    },
  }),
  rule({
    id: "configmap-no-secrets",
    title: "ConfigMaps hold no secrets",
    severity: "high",
    enforcement: "mandatory",
    category: "secrets",
    fix: "Move the value into a Secret.",
    applies: kindIs("ConfigMap"),
    check: (s) =>
      Object.entries(obj(get(s.object, "data")) ?? {})
        .filter(([k, v]) => SECRET_NAME.test(k) && String(v) !== "")
        .map(([k]) => ({ path: `data.${k}`, message: `key ${k} looks like a secret` })),
  }),
  rule({
    id: "no-default-namespace",
    title: "Nothing is deployed to the default namespace",
    severity: "low",
    enforcement: "mandatory",
    category: "metadata",
    fix: "Deploy into a PlatformNamespace.",
    applies: (s) => s.layer === "kubernetes" && s.namespace === "default",
    check: () => [{ path: "metadata.namespace", message: "object is in the default namespace" }],
  }),
  rule({
    id: "recommended-labels",
    title: "Objects carry app.kubernetes.io/name and part-of",
    severity: "low",
    enforcement: "advisory",
    category: "metadata",
    fix: "Add the recommended labels (recommendedLabels() in components/shared).",
    applies: (s) => isWorkload(s) || kindIs("Service", "ConfigMap", "Secret", "ServiceAccount")(s),
    check: (s) => {
      const labels = labelsOf(s.object);
      return [LabelKeys.name, LabelKeys.partOf]
        .filter((k) => labels[k] === undefined)
        .map((k) => ({ path: `metadata.labels.${k}`, message: `missing label ${k}` }));
    },
  }),
  rule({
    id: "namespace-pod-security-restricted",
    title: "Namespaces enforce Pod Security restricted",
    severity: "high",
    enforcement: "mandatory",
    category: "namespaces",
    fix: `Label the namespace ${PodSecurityLabels.enforce}=restricted (PlatformNamespace does).`,
    applies: kindIs("Namespace"),
    check: (s) =>
      labelsOf(s.object)[PodSecurityLabels.enforce] === "restricted"
        ? []
        : [
            {
              path: `metadata.labels.${PodSecurityLabels.enforce}`,
              message: "namespace does not enforce restricted",
            },
          ],
  }),
  rule({
    id: "namespace-quota-and-limits",
    title: "Namespaces have a ResourceQuota and a LimitRange",
    severity: "medium",
    enforcement: "mandatory",
    category: "namespaces",
    fix: "Create the namespace with PlatformNamespace (quota and container defaults).",
    applies: kindIs("Namespace"),
    check: (s, ctx) =>
      (["ResourceQuota", "LimitRange"] as const)
        .filter((k) => ctx.inNamespace(k, s.name).length === 0)
        .map((k) => ({ path: "metadata.name", message: `namespace ${s.name} has no ${k}` })),
  }),
];

// ---- GPU -------------------------------------------------------------------------------------

function requestsGpu(s: Subject): boolean {
  const pod = podSpec(s);
  return (
    pod !== undefined &&
    containers(pod).some((c) =>
      ["requests", "limits"].some(
        (k) => obj(get(c.container, `resources.${k}`))?.[GPU_RESOURCE] !== undefined,
      ),
    )
  );
}

function toleratesGpu(spec: Readonly<Record<string, unknown>>): boolean {
  return arr(spec.tolerations).some((t) => {
    const o = obj(t) ?? {};
    const keyOk = o.key === GPU_TAINT.key || (o.key === undefined && o.operator === "Exists");
    const valueOk = o.operator === "Exists" || o.value === GPU_TAINT.value;
    const effectOk = o.effect === undefined || o.effect === GPU_TAINT.effect;
    return keyOk && valueOk && effectOk;
  });
}

const gpuRules: Rule[] = [
  podRule({
    id: "gpu-pod-tolerates-taint",
    title: "GPU pods tolerate the GPU node taint",
    severity: "high",
    enforcement: "mandatory",
    category: "gpu",
    fix: "Add gpuToleration() from components/shared (nvidia.com/gpu=present:NoSchedule).",
    applies: (s) => isWorkload(s) && requestsGpu(s),
    checkPod: (pod) =>
      toleratesGpu(pod.spec)
        ? []
        : [{ path: `${pod.path}.tolerations`, message: "requests GPUs but does not tolerate the GPU taint" }],
  }),
  podRule({
    id: "gpu-pod-selects-gpu-nodes",
    title: "GPU pods select GPU nodes",
    severity: "medium",
    enforcement: "mandatory",
    category: "gpu",
    fix: `Add nodeSelector ${GPU_NODE_LABEL.key}: "${GPU_NODE_LABEL.value}" (gpuNodeSelector()).`,
    applies: (s) => isWorkload(s) && requestsGpu(s),
    checkPod: (pod) => {
      const bySelector = obj(pod.spec.nodeSelector)?.[GPU_NODE_LABEL.key] === GPU_NODE_LABEL.value;
      const byAffinity = JSON.stringify(get(pod.spec, "affinity.nodeAffinity") ?? {}).includes(
        GPU_NODE_LABEL.key,
      );
      return bySelector || byAffinity
        ? []
        : [{ path: `${pod.path}.nodeSelector`, message: "requests GPUs but does not select GPU nodes" }];
    },
  }),
  podRule({
    id: "non-gpu-pod-no-gpu-toleration",
    title: "Pods without GPUs do not tolerate the GPU taint",
    severity: "medium",
    enforcement: "mandatory",
    category: "gpu",
    fix: "Remove the GPU toleration: it lets CPU pods take scarce GPU nodes.",
    applies: (s) => isWorkload(s) && !requestsGpu(s),
    checkPod: (pod) =>
      toleratesGpu(pod.spec)
        ? [{ path: `${pod.path}.tolerations`, message: "tolerates the GPU taint without requesting GPUs" }]
        : [],
  }),
  containerRule({
    id: "gpu-limit-set",
    title: "GPU requests are limits too",
    severity: "high",
    enforcement: "mandatory",
    category: "gpu",
    fix: `Set resources.limits.${GPU_RESOURCE} (extended resources are requested through limits).`,
    checkContainer: (c) => {
      const req = obj(get(c.container, "resources.requests"))?.[GPU_RESOURCE];
      const lim = obj(get(c.container, "resources.limits"))?.[GPU_RESOURCE];
      return req !== undefined && String(req) !== String(lim)
        ? {
            path: `${c.path}.resources.limits.${GPU_RESOURCE}`,
            message: `container '${c.name}' GPU limit ${String(lim)} differs from request ${String(req)}`,
          }
        : undefined;
    },
  }),
  podRule({
    id: "gpu-shm-memory-limit",
    title: "GPU pods mount /dev/shm as a sized memory emptyDir",
    severity: "low",
    enforcement: "advisory",
    category: "gpu",
    fix: "Mount an emptyDir {medium: Memory, sizeLimit: e.g. 8Gi} at /dev/shm (PyTorch data loaders need it).",
    applies: (s) => isWorkload(s) && requestsGpu(s),
    checkPod: (pod) => {
      const shm = containers(pod)
        .flatMap((c) => arr(c.container.volumeMounts))
        .map((m) => obj(m))
        .find((m) => m?.mountPath === "/dev/shm");
      const volume = arr(pod.spec.volumes)
        .map((v) => obj(v))
        .find((v) => v?.name === shm?.name);
      const ok =
        get(volume, "emptyDir.medium") === "Memory" && get(volume, "emptyDir.sizeLimit") !== undefined;
      return ok ? [] : [{ path: `${pod.path}.volumes`, message: "no sized memory emptyDir at /dev/shm" }];
    },
  }),
  rule({
    id: "namespace-gpu-quota",
    title: "Namespaces running GPU workloads have a GPU quota",
    severity: "medium",
    enforcement: "mandatory",
    category: "gpu",
    fix: `Grant the namespace quota.gpus (ResourceQuota requests.${GPU_RESOURCE}).`,
    applies: (s) => isWorkload(s) && requestsGpu(s),
    check: (s, ctx) =>
      ctx
        .byKind("ResourceQuota")
        .some(
          (q) =>
            q.namespace === s.namespace &&
            obj(get(q.object, "spec.hard"))?.[`requests.${GPU_RESOURCE}`] !== undefined,
        )
        ? []
        : [
            {
              path: "metadata.namespace",
              message: `namespace ${s.namespace} has no requests.${GPU_RESOURCE} quota`,
            },
          ],
  }),
];

export const clusterRules: Rule[] = [...networkRules, ...rbacRules, ...metadataRules, ...gpuRules];
