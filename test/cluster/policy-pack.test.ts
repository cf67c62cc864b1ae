import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type * as auto from "@pulumi/pulumi/automation";
import { afterAll, describe, expect, inject, it } from "vitest";
import { PlatformNamespace } from "../../components/platform-namespace";
import { GeneratedSecret } from "../../components/shared";
import { inlineTestStack, type TestStack } from "../helpers/cluster";

/**
 * The CrossGuard adapter under the real Pulumi engine: `pulumi preview --policy-pack
 * policies/crossguard/mlops-policy-pack` (the Automation API passes the flag) on stacks that pass,
 * that break a mandatory rule, and that hold values unknown until apply.
 */
const kubeconfig = inject("kubeconfig");
const PACK = path.resolve(__dirname, "../../policies/crossguard/mlops-policy-pack");

type Kind = "clean" | "privileged" | "unknown-image";

function program(kind: Kind): auto.PulumiFn {
  return async () => {
    const provider = new k8s.Provider("local", { kubeconfig: readFileSync(kubeconfig, "utf8") });
    const ns = new PlatformNamespace("pp", { name: `policy-${kind}` }, { providers: [provider] });
    if (kind === "clean") return;
    // An image tag only known after apply (a generated value): rules that read it cannot decide.
    const tag =
      kind === "unknown-image"
        ? new GeneratedSecret("tag", { length: 16 }).result
        : pulumi.output("1.0.0@sha256:0000000000000000000000000000000000000000000000000000000000000000");
    new k8s.apps.v1.Deployment(
      "app",
      {
        metadata: { name: "app", namespace: ns.name, labels: { "app.kubernetes.io/name": "app" } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { "app.kubernetes.io/name": "app" } },
          template: {
            metadata: { labels: { "app.kubernetes.io/name": "app" } },
            spec: {
              containers: [
                {
                  name: "app",
                  image: tag.apply((t) => `registry.example.com/app:${t}`),
                  securityContext: { privileged: kind === "privileged" },
                },
              ],
            },
          },
        },
      },
      { provider },
    );
  };
}

interface Preview {
  readonly ok: boolean;
  readonly error: string;
  readonly policy: auto.PolicyEvent[];
}

const stacks: TestStack[] = [];

async function preview(kind: Kind): Promise<Preview> {
  const t = await inlineTestStack(`policy-${kind}`, program(kind));
  stacks.push(t);
  const policy: auto.PolicyEvent[] = [];
  try {
    await t.stack.preview({
      policyPacks: [PACK],
      onEvent: (e) => {
        if (e.policyEvent) policy.push(e.policyEvent);
      },
    });
    return { ok: true, error: "", policy };
  } catch (err) {
    return { ok: false, error: String(err), policy };
  }
}

afterAll(async () => {
  for (const s of stacks) await s.dispose();
});

describe("CrossGuard pack under pulumi preview", () => {
  it("passes a stack of platform components with zero mandatory findings", async () => {
    const r = await preview("clean");
    expect(r.error).toBe("");
    expect(r.ok).toBe(true);
    expect(r.policy.filter((p) => p.enforcementLevel === "mandatory")).toEqual([]);
  });

  it("fails the preview on a mandatory rule, naming the rule, the resource and the fix", async () => {
    const r = await preview("privileged");
    expect(r.ok).toBe(false);
    const privileged = r.policy.filter((p) => p.policyName === "pod-no-privileged");
    expect(privileged).toHaveLength(1);
    const [event] = privileged;
    expect(event?.enforcementLevel).toBe("mandatory");
    expect(event?.policyPackName).toBe("mlops-platform");
    expect(event?.resourceUrn).toMatch(/kubernetes:apps\/v1:Deployment::app$/);
    expect(event?.message).toMatch(/containers\[0\]\.securityContext\.privileged/);
    expect(event?.message).toMatch(/Fix: /);
    // Cross-resource rules see the whole stack: the Deployment sits in a default-deny namespace.
    expect(r.policy.map((p) => p.policyName)).not.toContain("pod-selected-by-network-policy");
  });

  it("reports rules that need an unknown value as not evaluated, with a count, and never passes them", async () => {
    const r = await preview("unknown-image");
    const notEvaluated = r.policy.filter((p) => p.policyName === "mlops-not-evaluated");
    const count = notEvaluated.find((p) => /finding\(s\) not evaluated/.test(p.message));
    expect(count?.message).toMatch(/^\d+ finding\(s\) not evaluated/m);
    const imageRules = notEvaluated.filter((p) =>
      /spec\.template\.spec\.containers\[0\]\.image/.test(p.message),
    );
    const ruleOf = (message: string) => /^([a-z0-9-]+): /m.exec(message)?.[1];
    expect(imageRules.map((p) => ruleOf(p.message))).toEqual(
      expect.arrayContaining(["image-digest-pinned", "image-tag-not-latest"]),
    );
    // Neither reported as passing-by-placeholder nor as a violation.
    expect(r.policy.filter((p) => p.policyName === "image-tag-not-latest")).toEqual([]);
  });
});
