/**
 * Composing the platform's data services in your own Pulumi program: a PlatformNamespace, Postgres,
 * an S3-compatible object store, Redis, MLflow and Feast, wired only through the typed connections
 * each component exports (no Secret names or hosts typed by hand). Used by `npm run preview` and by
 * the cluster tier, so this example is exercised on a real API server.
 *
 *   import { composeDataServices } from "./mlops-platform/examples/data-services";
 *   const data = composeDataServices({ namespace: "mlops-data" }, { providers: [provider] });
 *   export const trackingUri = data.mlflow.trackingUri;
 */
import type * as pulumi from "@pulumi/pulumi";
import { Feast, feastPodLabels } from "../components/feast";
import { Mlflow, mlflowPodLabels } from "../components/mlflow";
import { ObjectStore } from "../components/object-store";
import { PlatformNamespace } from "../components/platform-namespace";
import { Postgres } from "../components/postgres";
import { Redis } from "../components/redis";

export interface DataServicesArgs {
  readonly namespace: string;
  /** `local`: one replica of MLflow and Feast. @default "production" */
  readonly profile?: "local" | "production";
  /** Pods (e.g. the runtime) allowed to call MLflow and the feature server. @default [] */
  readonly clients?: readonly {
    readonly name: string;
    readonly podLabels: Readonly<Record<string, string>>;
  }[];
}

export function composeDataServices(args: DataServicesArgs, opts: pulumi.ComponentResourceOptions = {}) {
  const mlflowLabels = mlflowPodLabels();
  const feastLabels = feastPodLabels();
  const consumers = [
    { name: "mlflow", podLabels: mlflowLabels },
    { name: "feast", podLabels: feastLabels },
  ];
  const namespace = new PlatformNamespace("data", { name: args.namespace, role: "data" }, opts);
  const inNamespace = { ...opts, dependsOn: [namespace] };
  const postgres = new Postgres("postgres", { namespace: args.namespace, consumers }, inNamespace);
  const objectStore = new ObjectStore(
    "object-store",
    { namespace: args.namespace, buckets: ["mlflow-artifacts", "feast-offline"], consumers },
    inNamespace,
  );
  const redis = new Redis(
    "redis",
    { namespace: args.namespace, consumers: [{ name: "feast", podLabels: feastLabels }] },
    inNamespace,
  );
  // MLflow's migration Job and Feast's servers need the databases, buckets and Redis first.
  const afterData = { ...opts, dependsOn: [namespace, postgres, objectStore, redis] };
  const clients = args.clients ?? [];
  const mlflow = new Mlflow(
    "mlflow",
    {
      namespace: args.namespace,
      profile: args.profile,
      database: postgres.connection("mlflow"),
      objectStore: objectStore.plainConnection,
      clients,
    },
    afterData,
  );
  const feast = new Feast(
    "feast",
    {
      namespace: args.namespace,
      profile: args.profile,
      registry: postgres.connection("feast"),
      onlineStore: { type: "redis", redis: redis.plainConnection },
      offlineStore: objectStore.plainConnection,
      clients,
    },
    afterData,
  );
  return { namespace, postgres, objectStore, redis, mlflow, feast };
}
