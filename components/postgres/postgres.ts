import * as pulumi from "@pulumi/pulumi";
import {
  applyObjects,
  credentialsSecret,
  GeneratedSecret,
  inheritedDependsOn,
  type KubeObject,
  type PostgresConnection,
  renderChart,
} from "../shared";
import { PostgresChart } from "./chart";
import {
  consumerSecretName,
  type PostgresArgs,
  type PostgresConfig,
  resolvePostgres,
  sqlName,
} from "./config";

export type { PostgresConnection } from "../shared";
export type { PostgresArgs, PostgresConsumer } from "./config";

/** What other components take from a Postgres (e.g. `Mlflow` takes `database: PostgresOutputs`). */
export interface PostgresOutputs {
  readonly connections: pulumi.Output<Readonly<Record<string, PostgresConnection>>>;
}

export function renderPostgres(config: PostgresConfig): KubeObject[] {
  return renderChart((app) => new PostgresChart(app, config.name, config));
}

/** One consumer's connection (no password: that is in the Secret it names). */
export function postgresConnection(config: PostgresConfig, consumer: string): PostgresConnection {
  const db = sqlName(consumer);
  return {
    host: config.host,
    port: config.port,
    database: db,
    username: db,
    sslMode: config.sslMode,
    secretName: consumerSecretName(config.name, consumer),
  };
}

/**
 * Postgres for the platform (see PostgresChart). Generates the admin password (in-cluster mode) and
 * one password per consumer into Kubernetes Secrets; the values exist only in those Secrets and,
 * encrypted, in Pulumi state.
 */
export class Postgres extends pulumi.ComponentResource implements PostgresOutputs {
  static readonly type = "mlops:data:Postgres";
  readonly config: PostgresConfig;
  readonly connections: pulumi.Output<Readonly<Record<string, PostgresConnection>>>;
  readonly resources: ReadonlyMap<string, pulumi.CustomResource>;

  constructor(name: string, args: PostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    const config = resolvePostgres(args);
    super(Postgres.type, name, {}, opts);
    this.config = config;
    const inherited = inheritedDependsOn(opts);
    const secrets: pulumi.Resource[] = [];
    const secret = (id: string, secretName: string, data: Record<string, pulumi.Input<string>>) => {
      secrets.push(
        credentialsSecret(
          `${name}-${id}`,
          { name: secretName, namespace: config.namespace, app: "postgres", instance: config.name, data },
          { parent: this, dependsOn: inherited },
        ),
      );
    };
    if (config.mode === "in-cluster") {
      const admin = new GeneratedSecret(`${name}-admin-password`, {}, { parent: this });
      secret("admin", config.adminSecretName, { username: "postgres", password: admin.result });
    }
    const connections: Record<string, PostgresConnection> = {};
    for (const c of config.consumers) {
      const password = new GeneratedSecret(`${name}-${c.name}-password`, {}, { parent: this });
      const secretName = consumerSecretName(config.name, c.name);
      const db = sqlName(c.name);
      secret(`${c.name}-credentials`, secretName, {
        username: db,
        password: password.result,
        database: db,
        host: config.host,
        port: String(config.port),
      });
      connections[c.name] = postgresConnection(config, c.name);
    }
    this.resources = applyObjects(renderPostgres(config), {
      parent: this,
      prefix: name,
      dependsOn: [...inherited, ...secrets],
    });
    this.connections = pulumi.output(connections);
    this.registerOutputs({ connections: this.connections });
  }

  /**
   * One consumer's connection, as a plain value known at plan time (every field is derived from
   * Args), for wiring another component: `new Mlflow("mlflow", { database: pg.connection("mlflow"), ... })`.
   */
  connection(consumer: string): PostgresConnection {
    const names = this.config.consumers.map((c) => c.name);
    if (!names.includes(consumer))
      throw new Error(
        `Postgres "${this.config.name}": no consumer "${consumer}" (have: ${names.join(", ")}). Fix: add it to consumers.`,
      );
    return postgresConnection(this.config, consumer);
  }
}
