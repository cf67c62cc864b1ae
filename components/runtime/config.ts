import { type ContainerResources, check, type PodLabels, type PostgresConnection, Problems } from "../shared";

export interface RuntimeArgs {
  /**
   * Namespace the runtime runs in: the one its Postgres (and MLflow) run in, since Secrets and
   * NetworkPolicy pod selectors are namespace-local.
   */
  readonly namespace: string;
  /** Name of the Deployment, Service, ServiceAccount and Secrets. @default "runtime" */
  readonly name?: string;
  /** The runtime's own database (a Postgres consumer connection, e.g. `postgres.connection("runtime")`). */
  readonly database: PostgresConnection;
  /** Namespace where step Jobs run (a PlatformNamespace with GPU quota for GPU steps). */
  readonly jobNamespace: string;
  /** Namespaces whose serving resources (SeldonDeployment, InferenceService) the runtime manages. @default [] */
  readonly servingNamespaces?: readonly string[];
  /** ServiceAccount step pods run as, created in `jobNamespace` (no API token mounted). @default "pipeline-step" */
  readonly jobServiceAccount?: string;
  /** `local` allows one replica; `production` requires two or more (one leads, one stands by). @default "production" */
  readonly profile?: "local" | "production";
  /** @default - 2 in `production`, 1 in `local` */
  readonly replicas?: number;
  /** Image built from runtime/Dockerfile. @default "ghcr.io/mlops-platform/runtime:0.1.0" */
  readonly image?: string;
  /** MLflow for `modelVersion` triggers: the tracking URI and a Secret with `username` and `password`. */
  readonly mlflow?: { readonly trackingUri: string; readonly credentialsSecretName?: string };
  /** Pods admitted to the API (port 8080), e.g. CI runners, an ingress gateway. @default [] */
  readonly clients?: readonly { readonly name: string; readonly podLabels: PodLabels }[];
  /** Render a prometheus-operator ServiceMonitor (needs its CRD in the cluster). @default false */
  readonly serviceMonitor?: boolean;
  /** @default { requestCpu: "100m", requestMemory: "256Mi", limitMemory: "512Mi" } */
  readonly resources?: Partial<ContainerResources>;
}

export interface RuntimeConfig {
  readonly namespace: string;
  readonly name: string;
  readonly database: PostgresConnection;
  readonly jobNamespace: string;
  readonly servingNamespaces: readonly string[];
  readonly jobServiceAccount: string;
  readonly replicas: number;
  readonly image: string;
  readonly mlflow?: { readonly trackingUri: string; readonly credentialsSecretName?: string };
  readonly clients: readonly { readonly name: string; readonly podLabels: PodLabels }[];
  readonly serviceMonitor: boolean;
  readonly resources: ContainerResources;
  /** Secret with the generated admin API token (key `token`). */
  readonly adminTokenSecretName: string;
}

export const runtimeDefaults = {
  name: "runtime",
  image: "ghcr.io/mlops-platform/runtime:0.1.0",
  jobServiceAccount: "pipeline-step",
  resources: { requestCpu: "100m", requestMemory: "256Mi", limitMemory: "512Mi" },
} as const;

export const RUNTIME_PORT = 8080;

/** Labels of the runtime's pods: pass them to Postgres as a consumer, to MLflow as a client. */
export function runtimePodLabels(name: string = runtimeDefaults.name): Record<string, string> {
  return { "app.kubernetes.io/name": "runtime", "app.kubernetes.io/instance": name };
}

export function resolveRuntime(args: RuntimeArgs, component = "Runtime"): RuntimeConfig {
  const p = new Problems();
  p.dnsLabel("namespace", args?.namespace);
  const name = args?.name ?? runtimeDefaults.name;
  p.dnsLabel("name", name);
  p.dnsLabel("jobNamespace", args?.jobNamespace);
  for (const [i, n] of (args?.servingNamespaces ?? []).entries()) p.dnsLabel(`servingNamespaces[${i}]`, n);
  if (args?.servingNamespaces?.includes(args.jobNamespace))
    p.add(
      "servingNamespaces",
      args.servingNamespaces,
      "includes jobNamespace.",
      "keep training Jobs and serving in separate namespaces.",
    );
  p.dnsLabel("jobServiceAccount", args?.jobServiceAccount ?? runtimeDefaults.jobServiceAccount);
  if (!args?.database || typeof args.database !== "object")
    p.add(
      "database",
      args?.database,
      "is required.",
      'pass a Postgres consumer connection, e.g. postgres.connection("runtime").',
    );
  else p.dnsLabel("database.secretName", args.database.secretName);
  const replicas = check.replicas(p, args?.profile ?? "production", args?.replicas, 5);
  check.image(p, "image", args?.image);
  if (args?.mlflow !== undefined) {
    try {
      new URL(args.mlflow.trackingUri);
    } catch {
      p.add(
        "mlflow.trackingUri",
        args.mlflow.trackingUri,
        "is not a URL.",
        "pass the Mlflow component's trackingUri.",
      );
    }
    if (args.mlflow.credentialsSecretName !== undefined)
      p.dnsLabel("mlflow.credentialsSecretName", args.mlflow.credentialsSecretName);
  }
  const clients = args?.clients ?? [];
  check.podsRefs(p, "clients", clients, { min: 0, example: '{ name: "ci", podLabels: { ... } }' });
  const resources = { ...runtimeDefaults.resources, ...(args?.resources ?? {}) };
  check.resources(p, "resources", resources);
  p.throwIfAny(component);
  return {
    namespace: args.namespace,
    name,
    database: args.database,
    jobNamespace: args.jobNamespace,
    servingNamespaces: [...(args.servingNamespaces ?? [])],
    jobServiceAccount: args.jobServiceAccount ?? runtimeDefaults.jobServiceAccount,
    replicas,
    image: args.image ?? runtimeDefaults.image,
    ...(args.mlflow ? { mlflow: args.mlflow } : {}),
    clients: [...clients],
    serviceMonitor: args.serviceMonitor ?? false,
    resources,
    adminTokenSecretName: `${name}-admin-token`,
  };
}
