/**
 * The platform's rendered output: every chart with representative Args, as plain Kubernetes
 * objects. One list, read by the policy test (zero unwaived mandatory findings), by
 * `npm run render` (the manifests the pull-request workflow checks) and by the policy benchmark.
 * A new component adds its samples here.
 */
import { resolvePlatformNamespace } from "./platform-namespace/config";
import { renderPlatformNamespace } from "./platform-namespace/platform-namespace";

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
  ];
}
