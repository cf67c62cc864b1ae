import { ApiObject, type Chart } from "cdk8s";
import { recommendedLabels } from "./labels";
import { egressPolicySpec, ingressPolicySpec } from "./workload";

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

/** A service wired to a server: a name (for policy names) and its pods' labels. */
export interface ServerClient {
  readonly name: string;
  readonly podLabels: Readonly<Record<string, string>>;
}

/**
 * The NetworkPolicies of a server and the services wired to it: ingress to the server's pods (when
 * it runs in the cluster) only from the clients and `alsoAdmit` (the server's own Jobs), and one
 * egress policy per client, named `<name>-<client>-egress`, to the server's peers on its port.
 */
export function addClientPolicies(
  add: AddObject,
  o: {
    readonly name: string;
    /** The server's pod labels, or undefined when it runs outside the cluster. */
    readonly serverSelector?: Readonly<Record<string, string>>;
    /** Where clients connect: the server's pods, or any address for an external server. */
    readonly peers: readonly object[];
    readonly port: number;
    readonly clients: readonly ServerClient[];
    readonly alsoAdmit?: readonly Readonly<Record<string, string>>[];
  },
): void {
  if (o.serverSelector)
    add("np-server", "networking.k8s.io/v1", "NetworkPolicy", `${o.name}-server-ingress`, "server", {
      spec: ingressPolicySpec(
        o.serverSelector,
        [...(o.alsoAdmit ?? []), ...o.clients.map((c) => c.podLabels)],
        [o.port],
      ),
    });
  for (const [i, c] of o.clients.entries())
    add(
      `np-consumer-${i}`,
      "networking.k8s.io/v1",
      "NetworkPolicy",
      `${o.name}-${c.name}-egress`,
      "client-access",
      {
        spec: egressPolicySpec(c.podLabels, o.peers, [o.port]),
      },
    );
}
