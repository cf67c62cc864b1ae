import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  applyObjects,
  credentialsSecret,
  GeneratedSecret,
  inheritedDependsOn,
  type KubeObject,
  renderChart,
} from "../shared";
import { MlflowChart, mlflowObjectNames } from "./chart";
import { MLFLOW_PORT, type MlflowArgs, type MlflowConfig, mlflowPodLabels, resolveMlflow } from "./config";

export type { MlflowArgs, MlflowClient, MlflowPermission } from "./config";

/** What other components take from an Mlflow (the runtime registers models through it). */
export interface MlflowOutputs {
  /** In-cluster tracking URI, e.g. `http://mlflow.mlops-data.svc:5000`. */
  readonly trackingUri: pulumi.Output<string>;
  /** Secret with the admin `username` and `password` (auth on), for the runtime or a bootstrap step. */
  readonly adminSecretName: pulumi.Output<string | undefined>;
  /** Labels of MLflow's pods: pass them to Postgres and the ObjectStore as a consumer. */
  readonly podLabels: Readonly<Record<string, string>>;
}

export function renderMlflow(config: MlflowConfig): KubeObject[] {
  return renderChart((app) => new MlflowChart(app, config.name, config));
}

/**
 * The MLflow tracking server and model registry (see MlflowChart). Generates the admin password and
 * the Flask secret key into the Secret `<name>-admin`; runs the schema migration Job before the
 * server's Deployment is created.
 */
export class Mlflow extends pulumi.ComponentResource implements MlflowOutputs {
  static readonly type = "mlops:data:Mlflow";
  readonly config: MlflowConfig;
  readonly trackingUri: pulumi.Output<string>;
  readonly adminSecretName: pulumi.Output<string | undefined>;
  readonly podLabels: Readonly<Record<string, string>>;
  readonly resources: ReadonlyMap<string, pulumi.CustomResource>;
  /** The generated admin Secret (auth on). */
  readonly adminSecret?: k8s.core.v1.Secret;

  constructor(name: string, args: MlflowArgs, opts?: pulumi.ComponentResourceOptions) {
    const config = resolveMlflow(args);
    super(Mlflow.type, name, {}, opts);
    this.config = config;
    const inherited = inheritedDependsOn(opts);
    const dependsOn: pulumi.Input<pulumi.Resource>[] = [...inherited];
    if (config.auth) {
      const password = new GeneratedSecret(`${name}-admin-password`, {}, { parent: this });
      const flaskKey = new GeneratedSecret(`${name}-flask-secret-key`, { length: 64 }, { parent: this });
      this.adminSecret = credentialsSecret(
        `${name}-admin`,
        {
          name: config.authSecretName,
          namespace: config.namespace,
          app: "mlflow",
          instance: config.name,
          data: { username: "admin", password: password.result, "flask-secret-key": flaskKey.result },
        },
        { parent: this, dependsOn: inherited },
      );
      dependsOn.push(this.adminSecret);
    }
    // The schema migration (and what it needs) first; the server once it has completed.
    const objects = renderMlflow(config);
    const migrationJob = mlflowObjectNames(config).migrationJob;
    const first = objects.filter(
      (o) => o.kind === "ServiceAccount" || (o.kind === "Job" && o.metadata.name === migrationJob),
    );
    const migration = applyObjects(first, { parent: this, prefix: name, dependsOn });
    const rest = applyObjects(
      objects.filter((o) => !first.includes(o)),
      { parent: this, prefix: name, dependsOn: [...dependsOn, ...migration.values()] },
    );
    this.resources = new Map([...migration, ...rest]);
    this.trackingUri = pulumi.output(`http://${config.name}.${config.namespace}.svc:${MLFLOW_PORT}`);
    this.adminSecretName = pulumi.output(config.auth ? config.authSecretName : undefined);
    this.podLabels = mlflowPodLabels(config.name);
    this.registerOutputs({ trackingUri: this.trackingUri, adminSecretName: this.adminSecretName });
  }
}
