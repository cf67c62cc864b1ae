import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { applyObjects, type KubeObject, objectKey, renderChart } from "../shared";
import { PlatformNamespaceChart } from "./chart";
import { type PlatformNamespaceArgs, type PlatformNamespaceConfig, resolvePlatformNamespace } from "./config";

export type { PlatformNamespaceArgs } from "./config";

/** What other components take from a PlatformNamespace. */
export interface PlatformNamespaceOutputs {
  /** The namespace's name, known once the Namespace exists (so dependents wait for it). */
  readonly name: pulumi.Output<string>;
}

/** The objects of a PlatformNamespace for resolved config; what synthesis and the component share. */
export function renderPlatformNamespace(config: PlatformNamespaceConfig): KubeObject[] {
  return renderChart((app) => new PlatformNamespaceChart(app, config.name, config));
}

/**
 * A namespace with Pod Security `restricted`, quota, container defaults, default-deny
 * NetworkPolicies and DNS egress. Every object is its own Pulumi resource (see
 * components/shared/bridge.ts).
 */
export class PlatformNamespace extends pulumi.ComponentResource implements PlatformNamespaceOutputs {
  static readonly type = "mlops:cluster:PlatformNamespace";

  readonly name: pulumi.Output<string>;
  /** The resolved configuration (defaults applied), for callers that derive from it. */
  readonly config: PlatformNamespaceConfig;
  /** The Kubernetes resources created, keyed by `apiVersion/Kind/namespace/name`. */
  readonly resources: ReadonlyMap<string, pulumi.CustomResource>;

  constructor(name: string, args: PlatformNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before registering anything: bad Args leave no half-created component behind.
    const config = resolvePlatformNamespace(args);
    super(PlatformNamespace.type, name, {}, opts);
    this.config = config;
    this.resources = applyObjects(renderPlatformNamespace(config), { parent: this, prefix: name });

    const namespaceKey = objectKey({ apiVersion: "v1", kind: "Namespace", metadata: { name: config.name } });
    const namespace = this.resources.get(namespaceKey) as k8s.core.v1.Namespace;
    this.name = namespace.metadata.apply((m) => m.name);
    this.registerOutputs({ name: this.name });
  }
}
