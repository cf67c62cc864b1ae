import * as pulumi from "@pulumi/pulumi";
import {
  applyObjects,
  credentialsSecret,
  GeneratedSecret,
  inheritedDependsOn,
  type KubeObject,
  renderChart,
} from "../shared";
import { RuntimeChart } from "./chart";
import {
  RUNTIME_PORT,
  type RuntimeArgs,
  type RuntimeConfig,
  resolveRuntime,
  runtimePodLabels,
} from "./config";

export type { RuntimeArgs } from "./config";

export function renderRuntime(config: RuntimeConfig): KubeObject[] {
  return renderChart((app) => new RuntimeChart(app, config.name, config));
}

/**
 * The CT/CI/CD runtime service (see RuntimeChart). Generates its admin API token into
 * `<name>-admin-token` (key `token`): create narrower tokens with `mlops token create`.
 */
export class Runtime extends pulumi.ComponentResource {
  static readonly type = "mlops:runtime:Runtime";
  readonly config: RuntimeConfig;
  readonly url: pulumi.Output<string>;
  readonly adminTokenSecretName: pulumi.Output<string>;
  readonly serviceAccountName: pulumi.Output<string>;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly resources: ReadonlyMap<string, pulumi.CustomResource>;

  constructor(name: string, args: RuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    const config = resolveRuntime(args);
    super(Runtime.type, name, {}, opts);
    this.config = config;
    const inherited = inheritedDependsOn(opts);
    const token = new GeneratedSecret(`${name}-admin-token`, { length: 40 }, { parent: this });
    const secret = credentialsSecret(
      `${name}-admin-token`,
      {
        name: config.adminTokenSecretName,
        namespace: config.namespace,
        app: "runtime",
        instance: config.name,
        data: { token: token.result },
      },
      { parent: this, dependsOn: inherited },
    );
    this.resources = applyObjects(renderRuntime(config), {
      parent: this,
      prefix: name,
      dependsOn: [...inherited, secret],
    });
    this.url = pulumi.output(`http://${config.name}.${config.namespace}.svc:${RUNTIME_PORT}`);
    this.adminTokenSecretName = pulumi.output(config.adminTokenSecretName);
    this.serviceAccountName = pulumi.output(config.name);
    this.podLabels = runtimePodLabels(config.name);
    this.registerOutputs({ url: this.url, adminTokenSecretName: this.adminTokenSecretName });
  }
}
