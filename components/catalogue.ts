/**
 * The platform's rendered output: every chart with representative Args, as plain Kubernetes
 * objects. One list, read by the policy test (zero unwaived mandatory findings), by
 * `npm run render` (the manifests the pull-request workflow checks) and by the policy benchmark.
 * A new component adds its samples here.
 */
import { resolvePlatformNamespace } from "./platform-namespace/config";
import { renderPlatformNamespace } from "./platform-namespace/platform-namespace";
import { resolvePostgres } from "./postgres/config";
import { renderPostgres } from "./postgres/postgres";

const consumers = [
  {
    name: "mlflow",
    podLabels: { "app.kubernetes.io/name": "mlflow", "app.kubernetes.io/instance": "mlflow" },
  },
  { name: "feast", podLabels: { "app.kubernetes.io/name": "feast", "app.kubernetes.io/instance": "feast" } },
  {
    name: "runtime",
    podLabels: { "app.kubernetes.io/name": "runtime", "app.kubernetes.io/instance": "runtime" },
  },
];

export interface RenderedSample {
  /** `<component>/<sample>`, used as the file name of the rendered manifests. */
  readonly name: string;
  readonly objects: readonly Record<string, unknown>[];
}

export function platformSamples(): RenderedSample[] {
  return [
    {
      name: "platform-namespace/training",
      objects: renderPlatformNamespace(resolvePlatformNamespace({ name: "training", quota: { gpus: 8 } })),
    },
    {
      name: "platform-namespace/serving",
      objects: renderPlatformNamespace(resolvePlatformNamespace({ name: "serving", role: "serving" })),
    },
    {
      name: "postgres/in-cluster",
      objects: renderPostgres(resolvePostgres({ namespace: "mlops-data", consumers })),
    },
    {
      name: "postgres/external",
      objects: renderPostgres(
        resolvePostgres({
          namespace: "mlops-data",
          mode: "external",
          external: { host: "db.example.internal", adminSecretName: "rds-admin" },
          consumers,
        }),
      ),
    },
  ];
}
