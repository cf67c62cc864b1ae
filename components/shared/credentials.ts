import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { recommendedLabels } from "./labels";

export interface CredentialsSecretArgs {
  /** The Secret's name and namespace in the cluster. */
  readonly name: string;
  readonly namespace: string;
  /** The application and instance that own it (for the recommended labels). */
  readonly app: string;
  readonly instance: string;
  /** Keys and values; values from `GeneratedSecret` stay Pulumi secrets. */
  readonly data: Record<string, pulumi.Input<string>>;
}

/**
 * The one way components write generated credentials: an Opaque Secret labelled as credentials,
 * parented to the component and waiting for what the component waits for.
 */
export function credentialsSecret(
  resourceName: string,
  args: CredentialsSecretArgs,
  opts: { parent: pulumi.Resource; dependsOn?: pulumi.Input<pulumi.Resource>[] },
): k8s.core.v1.Secret {
  return new k8s.core.v1.Secret(
    resourceName,
    {
      metadata: {
        name: args.name,
        namespace: args.namespace,
        labels: recommendedLabels({ name: args.app, instance: args.instance, component: "credentials" }),
      },
      type: "Opaque",
      stringData: args.data,
    },
    opts,
  );
}
