import * as pulumi from "@pulumi/pulumi";

/** One resource the program registered under mocks. */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly custom: boolean;
}

/**
 * Strict Pulumi mocks: every registered resource is recorded and echoes its inputs as state;
 * any provider function call fails the test, since no component should need one at plan time.
 */
export async function installStrictMocks(): Promise<{ resources: RecordedResource[] }> {
  const resources: RecordedResource[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          custom: args.custom ?? true,
        });
        return { id: args.custom === false ? undefined : `${args.name}-id`, state: args.inputs };
      },
      call(args) {
        throw new Error(`unexpected provider call ${args.token} under strict mocks`);
      },
    },
    "mlops-platform",
    "unit",
    true,
  );
  return { resources };
}

/** Resolves a Pulumi Output in a test (mocks resolve outputs synchronously in microtasks). */
export function resolved<T>(output: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
  return new Promise((resolve) => pulumi.output(output).apply((v) => resolve(v as T)));
}
