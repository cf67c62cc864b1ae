import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  applyObjects,
  credentialsSecret,
  GeneratedSecret,
  inheritedDependsOn,
  type KubeObject,
  OBJECT_STORE_KEYS,
  type ObjectStoreConnection,
  renderChart,
} from "../shared";
import { ObjectStoreChart } from "./chart";
import { type ObjectStoreArgs, type ObjectStoreConfig, resolveObjectStore } from "./config";

export type { ObjectStoreConnection } from "../shared";
export type { ObjectStoreArgs, ObjectStoreConsumer } from "./config";

/** What other components take from an ObjectStore (e.g. `Mlflow` takes `objectStore: ObjectStoreOutputs`). */
export interface ObjectStoreOutputs {
  readonly connection: pulumi.Output<ObjectStoreConnection>;
}

export function renderObjectStore(config: ObjectStoreConfig): KubeObject[] {
  return renderChart((app) => new ObjectStoreChart(app, config.name, config));
}

/** The connection consumers read (no key material: that stays in the Secret it names). */
export function objectStoreConnection(config: ObjectStoreConfig): ObjectStoreConnection {
  return {
    endpoint: config.endpoint,
    region: config.region,
    buckets: config.buckets,
    ...(config.credentialsSecretName ? { credentialsSecretName: config.credentialsSecretName } : {}),
    serviceAccountAnnotations: config.roleArn ? { "eks.amazonaws.com/role-arn": config.roleArn } : {},
  };
}

/**
 * The platform's S3-compatible object store (see ObjectStoreChart). In mode `minio` it generates the
 * access keys into the Secret `<name>-credentials`; the values exist only there and, encrypted, in
 * Pulumi state.
 */
export class ObjectStore extends pulumi.ComponentResource implements ObjectStoreOutputs {
  static readonly type = "mlops:data:ObjectStore";
  readonly config: ObjectStoreConfig;
  readonly connection: pulumi.Output<ObjectStoreConnection>;
  /** The same connection as a plain value known at plan time, for wiring another component's Args. */
  readonly plainConnection: ObjectStoreConnection;
  readonly resources: ReadonlyMap<string, pulumi.CustomResource>;
  /** The generated credentials Secret (mode `minio`). */
  readonly credentials?: k8s.core.v1.Secret;

  constructor(name: string, args: ObjectStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    const config = resolveObjectStore(args);
    super(ObjectStore.type, name, {}, opts);
    this.config = config;
    const inherited = inheritedDependsOn(opts);
    const dependsOn: pulumi.Input<pulumi.Resource>[] = [...inherited];
    if (config.mode === "minio") {
      const accessKey = new GeneratedSecret(`${name}-access-key`, { length: 20 }, { parent: this });
      const secretKey = new GeneratedSecret(`${name}-secret-key`, { length: 40 }, { parent: this });
      this.credentials = credentialsSecret(
        `${name}-credentials`,
        {
          name: config.credentialsSecretName as string,
          namespace: config.namespace,
          app: "minio",
          instance: config.name,
          data: {
            [OBJECT_STORE_KEYS.accessKeyId]: accessKey.result,
            [OBJECT_STORE_KEYS.secretAccessKey]: secretKey.result,
            // The rest of the connection too, so a consumer may simply `envFrom` this Secret.
            AWS_ENDPOINT_URL: config.endpoint,
            AWS_REGION: config.region,
          },
        },
        { parent: this, dependsOn: inherited },
      );
      dependsOn.push(this.credentials);
    }
    this.resources = applyObjects(renderObjectStore(config), { parent: this, prefix: name, dependsOn });
    this.plainConnection = objectStoreConnection(config);
    this.connection = pulumi.output(this.plainConnection);
    this.registerOutputs({ connection: this.connection });
  }
}
