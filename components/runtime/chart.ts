import { Chart } from "cdk8s";
import type { Construct } from "constructs";
import {
  ANYWHERE,
  addDisruptionBudget,
  containerResources,
  egressPolicySpec,
  GPU_RESOURCE,
  gpuNodeSelector,
  gpuToleration,
  ingressPolicySpec,
  objectAdder,
  postgresUriEnv,
  RESTRICTED_CONTAINER_SECURITY,
  recommendedLabels,
  restrictedPodSecurity,
  scratchVolume,
  secretEnv,
  selectorLabels,
  spreadOverNodes,
  urlPort,
} from "../shared";
import { RUNTIME_PORT, type RuntimeConfig } from "./config";

const UID = 10001;

/** What the runtime's ServiceAccount may do in the step namespace: run Jobs and read their pods' logs. */
export const JOB_RULES = [
  { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "get", "list", "watch", "delete"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
  { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] },
] as const;

/** What it may do in serving namespaces: manage model deployments (Seldon Core, KServe), nothing else. */
export const SERVING_RULES = [
  {
    apiGroups: ["machinelearning.seldon.io"],
    resources: ["seldondeployments"],
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
  },
  {
    apiGroups: ["serving.kserve.io"],
    resources: ["inferenceservices"],
    verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
  },
] as const;

/** The runtime's environment: database URL by `$(VAR)` from its Secret, executor, GPU placement, API token. */
export function runtimeEnv(config: RuntimeConfig) {
  return [
    ...postgresUriEnv("MLOPS_DATABASE_URL", "MLOPS_DB", config.database),
    { name: "MLOPS_EXECUTOR", value: "kubernetes" },
    { name: "MLOPS_JOB_NAMESPACE", value: config.jobNamespace },
    { name: "MLOPS_JOB_SERVICE_ACCOUNT", value: config.jobServiceAccount },
    // The node pools' own GPU label and taint (components/shared), so GPU steps land on GPU nodes.
    { name: "MLOPS_GPU_RESOURCE", value: GPU_RESOURCE },
    { name: "MLOPS_GPU_NODE_SELECTOR", value: JSON.stringify(gpuNodeSelector()) },
    { name: "MLOPS_GPU_TOLERATIONS", value: JSON.stringify([gpuToleration()]) },
    { name: "MLOPS_LISTEN", value: `0.0.0.0:${RUNTIME_PORT}` },
    secretEnv("MLOPS_ADMIN_TOKEN", config.adminTokenSecretName, "token"),
    ...(config.mlflow
      ? [
          { name: "MLFLOW_TRACKING_URI", value: config.mlflow.trackingUri },
          ...(config.mlflow.credentialsSecretName
            ? [
                secretEnv("MLFLOW_TRACKING_USERNAME", config.mlflow.credentialsSecretName, "username"),
                secretEnv("MLFLOW_TRACKING_PASSWORD", config.mlflow.credentialsSecretName, "password"),
              ]
            : []),
        ]
      : []),
    { name: "HOME", value: "/tmp" },
  ];
}

/**
 * The CT/CI/CD runtime: a Deployment (one replica leads by database lock, the others stand by and
 * serve the API), least-privilege RBAC (Jobs and pod logs in the step namespace, model deployments
 * in serving namespaces, nothing in its own), the step pods' ServiceAccount, a Service, a PDB,
 * NetworkPolicies, and optionally a ServiceMonitor.
 */
export class RuntimeChart extends Chart {
  constructor(scope: Construct, id: string, config: RuntimeConfig) {
    super(scope, id, { disableResourceNameHashes: true });
    const obj = objectAdder(this, config.namespace, "runtime", config.name);
    const inNs = (ns: string) => objectAdder(this, ns, "runtime", config.name);
    const selector = selectorLabels("runtime", config.name, "server");
    const subject = { kind: "ServiceAccount", name: config.name, namespace: config.namespace };

    obj("sa", "v1", "ServiceAccount", config.name, "server", { automountServiceAccountToken: true });
    const jobs = inNs(config.jobNamespace);
    jobs("step-sa", "v1", "ServiceAccount", config.jobServiceAccount, "step", {
      automountServiceAccountToken: false,
    });
    jobs("jobs-role", "rbac.authorization.k8s.io/v1", "Role", `${config.name}-jobs`, "rbac", {
      rules: JOB_RULES,
    });
    jobs("jobs-binding", "rbac.authorization.k8s.io/v1", "RoleBinding", `${config.name}-jobs`, "rbac", {
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${config.name}-jobs` },
      subjects: [subject],
    });
    for (const [i, ns] of config.servingNamespaces.entries()) {
      const add = inNs(ns);
      add(`serving-role-${i}`, "rbac.authorization.k8s.io/v1", "Role", `${config.name}-serving`, "rbac", {
        rules: SERVING_RULES,
      });
      add(
        `serving-binding-${i}`,
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        `${config.name}-serving`,
        "rbac",
        {
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: `${config.name}-serving` },
          subjects: [subject],
        },
      );
    }
    obj("svc", "v1", "Service", config.name, "server", {
      spec: {
        type: "ClusterIP",
        selector,
        ports: [{ name: "http", port: RUNTIME_PORT, targetPort: "http" }],
      },
    });
    obj("deploy", "apps/v1", "Deployment", config.name, "server", {
      spec: {
        replicas: config.replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: {
            labels: recommendedLabels({ name: "runtime", instance: config.name, component: "server" }),
          },
          spec: {
            serviceAccountName: config.name,
            automountServiceAccountToken: true,
            securityContext: restrictedPodSecurity(UID),
            containers: [
              {
                name: "runtime",
                image: config.image,
                args: ["serve"],
                ports: [{ name: "http", containerPort: RUNTIME_PORT }],
                env: runtimeEnv(config),
                resources: containerResources(config.resources),
                readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 5 },
                livenessProbe: {
                  httpGet: { path: "/healthz", port: "http" },
                  periodSeconds: 10,
                  failureThreshold: 6,
                },
                securityContext: RESTRICTED_CONTAINER_SECURITY,
                volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volumes: [scratchVolume("tmp", "256Mi")],
            topologySpreadConstraints: spreadOverNodes(selector),
          },
        },
      },
    });
    if (config.replicas > 1) addDisruptionBudget(obj, config.name, "server", selector);
    // The API server's address is not known to a chart: egress on its ports to any address.
    obj("np-egress", "networking.k8s.io/v1", "NetworkPolicy", `${config.name}-egress`, "server", {
      spec: egressPolicySpec(selector, ANYWHERE, [
        443,
        6443,
        ...(config.mlflow ? [urlPort(config.mlflow.trackingUri)] : []),
      ]),
    });
    if (config.clients.length > 0)
      obj("np-ingress", "networking.k8s.io/v1", "NetworkPolicy", `${config.name}-ingress`, "server", {
        spec: ingressPolicySpec(
          selector,
          config.clients.map((c) => c.podLabels),
          [RUNTIME_PORT],
        ),
      });
    if (config.serviceMonitor)
      obj("sm", "monitoring.coreos.com/v1", "ServiceMonitor", config.name, "server", {
        spec: {
          selector: {
            matchLabels: recommendedLabels({ name: "runtime", instance: config.name, component: "server" }),
          },
          endpoints: [{ port: "http", path: "/metrics", interval: "30s" }],
        },
      });
  }
}
