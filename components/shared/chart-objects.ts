import { ApiObject, type Chart } from "cdk8s";
import { recommendedLabels } from "./labels";

/** Adds one namespaced object to a chart, labelled for its component. */
export type AddObject = (
  id: string,
  apiVersion: string,
  kind: string,
  name: string,
  component: string,
  body: object,
  annotations?: Readonly<Record<string, string>>,
) => ApiObject;

/**
 * The `obj(...)` every chart uses: namespaced objects carrying the recommended labels of
 * application `app`, instance `instance` and the given component.
 */
export function objectAdder(chart: Chart, namespace: string, app: string, instance: string): AddObject {
  return (id, apiVersion, kind, name, component, body, annotations) =>
    new ApiObject(chart, id, {
      apiVersion,
      kind,
      metadata: {
        name,
        namespace,
        labels: recommendedLabels({ name: app, instance, component }),
        ...(annotations && Object.keys(annotations).length > 0 ? { annotations: { ...annotations } } : {}),
      },
      ...body,
    });
}

/** Spreads a replicated server's pods over nodes (best effort: a small cluster still schedules them). */
export function spreadOverNodes(selector: Readonly<Record<string, string>>) {
  return [
    {
      maxSkew: 1,
      topologyKey: "kubernetes.io/hostname",
      whenUnsatisfiable: "ScheduleAnyway",
      labelSelector: { matchLabels: { ...selector } },
    },
  ];
}

/** A PodDisruptionBudget for a replicated server: a drain takes one pod at a time, never all. */
export function addDisruptionBudget(
  add: AddObject,
  name: string,
  component: string,
  selector: Readonly<Record<string, string>>,
) {
  return add("pdb", "policy/v1", "PodDisruptionBudget", name, component, {
    spec: { maxUnavailable: 1, selector: { matchLabels: { ...selector } } },
  });
}
