import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  applyObjects,
  credentialsSecret,
  GeneratedSecret,
  inheritedDependsOn,
  type KubeObject,
  type RedisConnection,
  renderChart,
} from "../shared";
import { RedisChart } from "./chart";
import { REDIS_PORT, type RedisArgs, type RedisConfig, resolveRedis } from "./config";

export type { RedisConnection } from "../shared";
export type { RedisArgs, RedisConsumer } from "./config";

export function renderRedis(config: RedisConfig): KubeObject[] {
  return renderChart((app) => new RedisChart(app, config.name, config));
}

export function redisConnection(config: RedisConfig): RedisConnection {
  return { host: config.host, port: REDIS_PORT, secretName: config.secretName };
}

/** What other components take from a Redis (Feast's online store). */
export interface RedisOutputs {
  readonly connection: pulumi.Output<RedisConnection>;
}

/** A Redis-compatible server (see RedisChart); generates its password into `<name>-credentials`. */
export class Redis extends pulumi.ComponentResource implements RedisOutputs {
  static readonly type = "mlops:data:Redis";
  readonly config: RedisConfig;
  readonly connection: pulumi.Output<RedisConnection>;
  /** The same connection as a plain value known at plan time, for wiring another component's Args. */
  readonly plainConnection: RedisConnection;
  readonly resources: ReadonlyMap<string, pulumi.CustomResource>;
  readonly credentials: k8s.core.v1.Secret;

  constructor(name: string, args: RedisArgs, opts?: pulumi.ComponentResourceOptions) {
    const config = resolveRedis(args);
    super(Redis.type, name, {}, opts);
    this.config = config;
    const inherited = inheritedDependsOn(opts);
    const password = new GeneratedSecret(`${name}-password`, {}, { parent: this });
    this.credentials = credentialsSecret(
      `${name}-credentials`,
      {
        name: config.secretName,
        namespace: config.namespace,
        app: "redis",
        instance: config.name,
        data: { password: password.result, host: config.host, port: String(REDIS_PORT) },
      },
      { parent: this, dependsOn: inherited },
    );
    this.resources = applyObjects(renderRedis(config), {
      parent: this,
      prefix: name,
      dependsOn: [...inherited, this.credentials],
    });
    this.plainConnection = redisConnection(config);
    this.connection = pulumi.output(this.plainConnection);
    this.registerOutputs({ connection: this.connection });
  }
}
