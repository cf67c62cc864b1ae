import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { type KubeObject, objectKey } from "./render";

/**
 * The chart -> Pulumi bridge. Every object a chart renders becomes its own Pulumi resource of its
 * real type (`kubernetes:apps/v1:Deployment`, ...), so `pulumi preview` diffs each object, the
 * policy pack sees typed resources, and the provider's await logic applies per kind. Objects of a
 * group the Kubernetes API does not define itself (custom resources) become
 * `kubernetes:<group>/<version>:<Kind>` through `apiextensions.CustomResource`.
 *
 * Ordering: an object waits for the Namespace it lives in, a custom resource for its
 * CustomResourceDefinition, and a workload for the ServiceAccount its pods run as, when those are
 * applied in the same call. Everything else is created in
 * parallel, as Kubernetes controllers converge on their own.
 *
 * Why not `yaml.v2.ConfigGroup`: it is a provider-side component whose children are invisible to
 * Pulumi mocks and to policies at preview; and `yaml.ConfigGroup` (v1) does not order namespaces
 * and CRDs. This table is the one place that knows the mapping.
 */

// Constructors of the built-in kinds the platform renders. `never` args make every class fit;
// the manifest itself is the args object (the provider accepts the object as rendered).
type ResourceClass = new (
  name: string,
  args: never,
  opts?: pulumi.CustomResourceOptions,
) => pulumi.CustomResource;

const BUILT_IN: Readonly<Record<string, ResourceClass>> = {
  "v1/Namespace": k8s.core.v1.Namespace,
  "v1/ResourceQuota": k8s.core.v1.ResourceQuota,
  "v1/LimitRange": k8s.core.v1.LimitRange,
  "v1/ServiceAccount": k8s.core.v1.ServiceAccount,
  "v1/Service": k8s.core.v1.Service,
  "v1/ConfigMap": k8s.core.v1.ConfigMap,
  "v1/Secret": k8s.core.v1.Secret,
  "v1/PersistentVolumeClaim": k8s.core.v1.PersistentVolumeClaim,
  "v1/PersistentVolume": k8s.core.v1.PersistentVolume,
  "v1/Pod": k8s.core.v1.Pod,
  "apps/v1/Deployment": k8s.apps.v1.Deployment,
  "apps/v1/StatefulSet": k8s.apps.v1.StatefulSet,
  "apps/v1/DaemonSet": k8s.apps.v1.DaemonSet,
  "batch/v1/Job": k8s.batch.v1.Job,
  "batch/v1/CronJob": k8s.batch.v1.CronJob,
  "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
  "networking.k8s.io/v1/NetworkPolicy": k8s.networking.v1.NetworkPolicy,
  "networking.k8s.io/v1/Ingress": k8s.networking.v1.Ingress,
  "rbac.authorization.k8s.io/v1/Role": k8s.rbac.v1.Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": k8s.rbac.v1.RoleBinding,
  "rbac.authorization.k8s.io/v1/ClusterRole": k8s.rbac.v1.ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": k8s.rbac.v1.ClusterRoleBinding,
  "apiextensions.k8s.io/v1/CustomResourceDefinition": k8s.apiextensions.v1.CustomResourceDefinition,
  "autoscaling/v2/HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
  "storage.k8s.io/v1/StorageClass": k8s.storage.v1.StorageClass,
  "scheduling.k8s.io/v1/PriorityClass": k8s.scheduling.v1.PriorityClass,
};

/** API groups served by Kubernetes itself; a kind of these groups missing from the table is an error. */
const BUILT_IN_GROUPS = new Set([
  "",
  "apps",
  "batch",
  "policy",
  "networking.k8s.io",
  "rbac.authorization.k8s.io",
  "apiextensions.k8s.io",
  "autoscaling",
  "storage.k8s.io",
  "scheduling.k8s.io",
  "admissionregistration.k8s.io",
  "coordination.k8s.io",
  "discovery.k8s.io",
  "node.k8s.io",
  "certificates.k8s.io",
]);

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** How one object is applied: its Pulumi name and the keys of the objects it must wait for. */
export interface PlannedObject {
  readonly key: string;
  readonly resourceName: string;
  readonly object: KubeObject;
  readonly dependsOn: readonly string[];
  /** `builtin` objects use their typed class; `custom` ones `apiextensions.CustomResource`. */
  readonly via: "builtin" | "custom";
}

/**
 * Plans how objects become resources, Namespaces and CRDs first. Pure, so ordering and naming are unit-tested without Pulumi.
 * `prefix` (the component's name) keeps resource names unique across components.
 */
export function planObjects(prefix: string, objects: readonly KubeObject[]): PlannedObject[] {
  const namespaces = new Map<string, string>();
  const crds = new Map<string, string>(); // "<group>/<Kind>" -> key
  const serviceAccounts = new Map<string, string>(); // "<namespace>/<name>" -> key
  const seen = new Set<string>();
  for (const o of objects) {
    const key = objectKey(o);
    if (seen.has(key))
      throw new Error(`${prefix}: two objects render as ${key}; object names must be unique`);
    seen.add(key);
    if (o.apiVersion === "v1" && o.kind === "Namespace") namespaces.set(o.metadata.name, key);
    if (o.apiVersion === "v1" && o.kind === "ServiceAccount")
      serviceAccounts.set(`${o.metadata.namespace ?? ""}/${o.metadata.name}`, key);
    if (o.kind === "CustomResourceDefinition") {
      const spec = o.spec as { group: string; names: { kind: string } };
      crds.set(`${spec.group}/${spec.names.kind}`, key);
    }
  }
  // Namespaces and CRDs first, so everything that waits for them finds them; otherwise as rendered.
  const rank = (o: KubeObject) =>
    o.kind === "Namespace" ? 0 : o.kind === "CustomResourceDefinition" ? 1 : 2;
  const ordered = objects.map((o, i) => ({ o, i })).sort((a, b) => rank(a.o) - rank(b.o) || a.i - b.i);
  return ordered.map(({ o }) => {
    const key = objectKey(o);
    const typeKey = `${o.apiVersion}/${o.kind}`;
    const group = groupOf(o.apiVersion);
    let via: PlannedObject["via"];
    if (BUILT_IN[typeKey]) via = "builtin";
    else if (!BUILT_IN_GROUPS.has(group)) via = "custom";
    else {
      throw new Error(
        `${prefix}: ${typeKey} (${o.metadata.name}) has no typed Pulumi class in the bridge; ` +
          "add it to BUILT_IN in components/shared/bridge.ts",
      );
    }
    const dependsOn: string[] = [];
    const ns = o.metadata.namespace && namespaces.get(o.metadata.namespace);
    if (ns) dependsOn.push(ns);
    const crd = crds.get(`${group}/${o.kind}`);
    if (crd) dependsOn.push(crd);
    // A workload created before its ServiceAccount fails to create pods until the SA appears.
    const sa = podServiceAccount(o);
    const saKey = sa && serviceAccounts.get(`${o.metadata.namespace ?? ""}/${sa}`);
    if (saKey) dependsOn.push(saKey);
    const scope = o.metadata.namespace ? `${o.metadata.namespace}-` : "";
    return {
      key,
      resourceName: `${prefix}-${o.kind.toLowerCase()}-${scope}${o.metadata.name}`,
      object: o,
      dependsOn,
      via,
    };
  });
}

/** The ServiceAccount a workload's pods run as, if it names one. */
function podServiceAccount(o: KubeObject): string | undefined {
  const spec = o.spec as Record<string, unknown> | undefined;
  if (!spec) return undefined;
  const template =
    o.kind === "CronJob"
      ? (spec.jobTemplate as { spec?: { template?: unknown } } | undefined)?.spec?.template
      : o.kind === "Pod"
        ? { spec }
        : spec.template;
  const name = (template as { spec?: { serviceAccountName?: unknown } } | undefined)?.spec
    ?.serviceAccountName;
  return typeof name === "string" ? name : undefined;
}

export interface ApplyObjectsOptions {
  /** The component that owns the resources (`parent: this`). */
  readonly parent: pulumi.Resource;
  /** Prefix for resource names; use the component's name. */
  readonly prefix: string;
  /** Resources every object waits for (e.g. a Secret the chart references by name). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * Applies rendered objects as Pulumi resources (see the module comment). Returns them by
 * `objectKey`, so a component can expose outputs of particular objects.
 */
export function applyObjects(
  objects: readonly KubeObject[],
  opts: ApplyObjectsOptions,
): ReadonlyMap<string, pulumi.CustomResource> {
  const created = new Map<string, pulumi.CustomResource>();
  for (const plan of planObjects(opts.prefix, objects)) {
    const resourceOpts: pulumi.CustomResourceOptions = {
      parent: opts.parent,
      dependsOn: [
        ...(opts.dependsOn ?? []),
        ...plan.dependsOn.map((k) => created.get(k) as pulumi.CustomResource),
      ],
    };
    const Class =
      plan.via === "builtin"
        ? (BUILT_IN[`${plan.object.apiVersion}/${plan.object.kind}`] as unknown as new (
            name: string,
            args: unknown,
            opts?: pulumi.CustomResourceOptions,
          ) => pulumi.CustomResource)
        : k8s.apiextensions.CustomResource;
    created.set(plan.key, new Class(plan.resourceName, plan.object as never, resourceOpts));
  }
  return created;
}

/**
 * A component's own `dependsOn`, for its children. Pulumi does not hand a parent's `dependsOn` to
 * the resources it parents, so a component that is told to wait (e.g. for the Namespace its objects
 * live in) passes this to every child it creates.
 */
export function inheritedDependsOn(opts?: pulumi.ComponentResourceOptions): pulumi.Input<pulumi.Resource>[] {
  const d = opts?.dependsOn;
  if (d === undefined) return [];
  if (Array.isArray(d)) return [...d];
  return [d as pulumi.Input<pulumi.Resource>];
}
