import { App, type Chart } from "cdk8s";

/** A Kubernetes object as a chart renders it. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

/**
 * Builds a chart in a fresh cdk8s App and returns its objects, resolved (what `cdk8s synth` would
 * write). Pure: no files, no environment.
 */
export function renderChart(build: (app: App) => Chart): KubeObject[] {
  const app = new App({ outdir: "unused" });
  const chart = build(app);
  const objects = chart.toJson() as KubeObject[];
  for (const o of objects) {
    if (!o.metadata?.name) {
      throw new Error(
        `chart ${chart.node.id} rendered a ${o.kind} without metadata.name; charts must name every object`,
      );
    }
  }
  return objects;
}

/** A stable key for one object: `apiVersion/Kind/namespace/name` (namespace empty when cluster-scoped). */
export function objectKey(o: Pick<KubeObject, "apiVersion" | "kind" | "metadata">): string {
  return `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

/** Finds exactly one object by kind and name; throws naming what was missing (for tests and callers). */
export function findObject(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) {
    const have = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ");
    throw new Error(`expected one ${kind} named "${name}", found ${found.length} (have: ${have})`);
  }
  return found[0] as KubeObject;
}
