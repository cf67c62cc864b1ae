import * as pulumi from "@pulumi/pulumi";
import { applyObjects, inheritedDependsOn, type KubeObject, renderChart } from "../shared";
import { FeastChart } from "./chart";
import { FEAST_PORT, type FeastArgs, type FeastConfig, feastPodLabels, resolveFeast } from "./config";

export type { FeastArgs, FeastClient, FeastOnlineStore } from "./config";

export function renderFeast(config: FeastConfig): KubeObject[] {
  return renderChart((app) => new FeastChart(app, config.name, config));
}

/** What other components take from Feast (model servers and the runtime read features from it). */
export interface FeastOutputs {
  /** In-cluster URL of the feature server, e.g. `http://feast.mlops-data.svc:6566`. */
  readonly featureServerUrl: pulumi.Output<string>;
  /** Labels of Feast's pods: pass them to Postgres, Redis and the ObjectStore as a consumer. */
  readonly podLabels: Readonly<Record<string, string>>;
}

/**
 * Feast (see FeastChart). Holds no credentials of its own: the registry, online store and object
 * store Secrets are the ones their components generated, referenced by name.
 */
export class Feast extends pulumi.ComponentResource implements FeastOutputs {
  static readonly type = "mlops:data:Feast";
  readonly config: FeastConfig;
  readonly featureServerUrl: pulumi.Output<string>;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly resources: ReadonlyMap<string, pulumi.CustomResource>;

  constructor(name: string, args: FeastArgs, opts?: pulumi.ComponentResourceOptions) {
    const config = resolveFeast(args);
    super(Feast.type, name, {}, opts);
    this.config = config;
    this.resources = applyObjects(renderFeast(config), {
      parent: this,
      prefix: name,
      dependsOn: inheritedDependsOn(opts),
    });
    this.featureServerUrl = pulumi.output(`http://${config.name}.${config.namespace}.svc:${FEAST_PORT}`);
    this.podLabels = feastPodLabels(config.name);
    this.registerOutputs({ featureServerUrl: this.featureServerUrl });
  }
}
