import type { Subject } from "../engine/types";
import { UNKNOWN, unknownPathsOf } from "../engine/unknown";
import { obj } from "../rules/helpers";

/** The part of a CrossGuard `PolicyResource` the adapter reads (raw props, not the proxy). */
export interface PulumiResourceInput {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Readonly<Record<string, unknown>>;
}

/** Pulumi Kubernetes type tokens: `kubernetes:<group>/<version>:<Kind>`, core group is `core`. */
const K8S_TYPE = /^kubernetes:([^/:]+)\/([^:]+):([A-Za-z0-9]+)$/;

/** Component and meta types that are not objects on the API server. */
const NOT_AN_OBJECT = /^kubernetes:(yaml|helm\.sh|kustomize)\/|List$/;

/**
 * Turns the resources of a Pulumi stack (as CrossGuard passes them) into subjects. Kubernetes
 * resources become `kubernetes` subjects shaped like manifests (apiVersion and kind restored from the
 * type token), everything else `pulumi` subjects keyed by type token. Values unknown during preview
 * (`isUnknown`) become `UNKNOWN`, and their paths are recorded, so rules that need them report
 * "not evaluated".
 */
export function subjectsFromPulumiResources(
  resources: readonly PulumiResourceInput[],
  isUnknown: (value: unknown) => boolean,
): Subject[] {
  const subjects: Subject[] = [];
  for (const r of resources) {
    if (r.type.startsWith("pulumi:") || r.type.startsWith("pulumi-nodejs:")) continue;
    const props = (replaceUnknowns(r.props, isUnknown) ?? {}) as Record<string, unknown>;
    const unknownPaths = unknownPathsOf(props);
    const source = { uri: r.urn };
    const k8s = K8S_TYPE.exec(r.type);
    if (k8s && !NOT_AN_OBJECT.test(r.type)) {
      const [, group, version, kind] = k8s as unknown as [string, string, string, string];
      const apiVersion = group === "core" ? version : `${group}/${version}`;
      const object = { ...props, apiVersion, kind };
      const metadata = obj(props.metadata) ?? {};
      subjects.push({
        layer: "kubernetes",
        apiVersion,
        kind,
        name: typeof metadata.name === "string" ? metadata.name : r.name,
        namespace: typeof metadata.namespace === "string" ? metadata.namespace : "",
        object,
        source,
        ...(unknownPaths.length ? { unknownPaths } : {}),
      });
      continue;
    }
    if (r.type.startsWith("kubernetes:")) continue;
    subjects.push({
      layer: "pulumi",
      apiVersion: r.type,
      kind: r.type,
      name: r.name,
      namespace: "",
      object: props,
      source,
      ...(unknownPaths.length ? { unknownPaths } : {}),
    });
  }
  return subjects;
}

function replaceUnknowns(value: unknown, isUnknown: (v: unknown) => boolean): unknown {
  if (isUnknown(value)) return UNKNOWN;
  if (Array.isArray(value)) return value.map((v) => replaceUnknowns(v, isUnknown));
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = replaceUnknowns(v, isUnknown);
    return out;
  }
  return value;
}
