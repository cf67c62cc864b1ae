/**
 * Policy checker benchmark: mlops-policy against kube-score and Polaris on the same manifests,
 * side by side in one run. Not a test; prints figures.
 *
 *   npm run toolchain -- kube-score polaris     (once: builds the peers from the Go module proxy)
 *   npm run bench:policy [-- --objects 2000 --runs 5]
 *
 * Manifest set: the platform's rendered output (components/catalogue.ts) plus every failing
 * Kubernetes fixture of the rule library (so there is something to find), replicated into
 * namespaces `<ns>-r<i>` until at least `--objects` objects. Each tool runs as its CLI is used in a
 * pull request (a fresh process on the whole directory), `--runs` times in rotating order; the
 * table gives the median wall time and time per object. Findings are compared per object and
 * concept (peer checks mapped to our rule ids where they mean the same thing).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { stringify } from "yaml";
import { platformSamples } from "../../components/catalogue";
import { subjectsFromText } from "../../policies/adapters/manifests";
import { allRules } from "../../policies/rules";

const ROOT = path.resolve(__dirname, "../..");
const { values } = parseArgs({
  options: { objects: { type: "string", default: "2000" }, runs: { type: "string", default: "5" } },
});
const targetObjects = Number(values.objects);
const runs = Number(values.runs);

function toolBin(tool: string, bin: string): string | undefined {
  const out = execFileSync(
    "bash",
    [
      "-c",
      `. "${ROOT}/scripts/toolchain/lib.sh" && d=$(tool_dir ${tool}) && [ -f "$d/.complete" ] && echo "$d/bin/${bin}" || true`,
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  ).trim();
  return out || undefined;
}

// ---- the manifest set -------------------------------------------------------------------------
type Obj = Record<string, unknown> & { kind: string; metadata: Record<string, unknown> };

function baseObjects(): Obj[] {
  const objects: Obj[] = platformSamples().flatMap((s) => s.objects as Obj[]);
  const fixtures = path.join(ROOT, "policies/fixtures");
  const dirs = readdirSync(fixtures, { withFileTypes: true }).filter((d) => d.isDirectory());
  dirs.forEach((rule, n) => {
    const text = readFileSync(path.join(fixtures, rule.name, "fail.yaml"), "utf8");
    // Fixtures reuse names (team-ml/web); a namespace per fixture keeps every object distinct.
    const fixture = subjectsFromText(text, "").subjects.filter((s) => s.layer === "kubernetes");
    objects.push(
      ...inNamespaceSuffix(
        fixture.map((s) => structuredClone(s.object) as Obj),
        `f${n}`,
      ),
    );
  });
  return objects;
}

function replica(objects: readonly Obj[], i: number): Obj[] {
  return inNamespaceSuffix(objects, `r${i}`);
}

function inNamespaceSuffix(objects: readonly Obj[], tag: string): Obj[] {
  const suffix = (ns: unknown) => (typeof ns === "string" && ns !== "" ? `${ns}-${tag}` : ns);
  return objects.map((o) => {
    const c = structuredClone(o);
    if (c.kind === "Namespace") c.metadata.name = suffix(c.metadata.name);
    else if (c.metadata.namespace) c.metadata.namespace = suffix(c.metadata.namespace);
    return c;
  });
}

const dir = mkdtempSync(path.join(os.tmpdir(), "mlops-policy-bench-"));
const base = baseObjects();
let total = 0;
const files: string[] = [];
for (let i = 0; total < targetObjects; i++) {
  const objects = replica(base, i);
  const file = path.join(dir, `replica-${String(i).padStart(3, "0")}.yaml`);
  writeFileSync(file, objects.map((o) => stringify(o)).join("---\n"));
  files.push(file);
  total += objects.length;
}
const byKind = new Map<string, number>();
for (const o of base) byKind.set(o.kind, (byKind.get(o.kind) ?? 0) + 1);
console.log(
  `bench: ${total} objects in ${files.length} files (${base.length} per replica: ${[...byKind].map(([k, n]) => `${n} ${k}`).join(", ")})`,
);

// ---- the tools ---------------------------------------------------------------------------------
/** A finding: object key (kind/namespace/name) and concept (our rule id, or tool:check). */
type Finding = { object: string; concept: string };

interface Tool {
  readonly name: string;
  readonly checks: string;
  run(): { stdout: string; ms: number };
  parse(stdout: string): Finding[];
}

function timed(cmd: string, args: readonly string[]): { stdout: string; ms: number } {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 1 << 30, cwd: ROOT });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.error) throw r.error;
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`${cmd} exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
  return { stdout: r.stdout, ms };
}

const key = (kind: string, ns: string | undefined, name: string) => `${kind}/${ns ?? ""}/${name}`;

/** kube-score check ids that test what one of our rules tests. */
const KUBE_SCORE_MAP: Readonly<Record<string, string>> = {
  "container-security-context-privileged": "pod-no-privileged",
  "container-security-context-readonlyrootfilesystem": "pod-read-only-root-filesystem",
  "container-security-context-user-group-id": "pod-run-as-user-not-root",
  "container-seccomp-profile": "pod-seccomp-profile",
  "container-image-tag": "image-tag-not-latest",
  "container-ephemeral-storage-request-and-limit": "container-ephemeral-storage",
  "pod-networkpolicy": "pod-selected-by-network-policy",
  "networkpolicy-targets-pod": "network-policy-not-dangling",
  "deployment-has-poddisruptionbudget": "workload-has-pdb",
  "statefulset-has-poddisruptionbudget": "workload-has-pdb",
  "deployment-has-host-podantiaffinity": "workload-spread",
  "statefulset-has-host-podantiaffinity": "workload-spread",
  "pod-topology-spread-constraints": "workload-spread",
  "deployment-replicas": "workload-replicas",
  "stable-version": "no-deprecated-api",
  "poddisruptionbudget-has-policy": "pdb-allows-eviction",
};

/** Polaris check ids that test what one of our rules tests. */
const POLARIS_MAP: Readonly<Record<string, string>> = {
  hostIPCSet: "pod-no-host-namespaces",
  hostPIDSet: "pod-no-host-namespaces",
  hostNetworkSet: "pod-no-host-namespaces",
  hostPortSet: "pod-no-host-ports",
  runAsPrivileged: "pod-no-privileged",
  privilegeEscalationAllowed: "pod-no-privilege-escalation",
  runAsRootAllowed: "pod-run-as-non-root",
  notReadOnlyRootFilesystem: "pod-read-only-root-filesystem",
  dangerousCapabilities: "pod-capabilities-add-restricted",
  insecureCapabilities: "pod-capabilities-drop-all",
  tagNotSpecified: "image-tag-not-latest",
  livenessProbeMissing: "container-liveness-probe",
  readinessProbeMissing: "container-readiness-probe",
  cpuRequestsMissing: "container-cpu-requests",
  memoryRequestsMissing: "container-memory-requests",
  memoryLimitsMissing: "container-memory-limits",
  deploymentMissingReplicas: "workload-replicas",
  hostPathSet: "pod-no-host-path",
  automountServiceAccountToken: "pod-no-automount-token",
  missingNetworkPolicy: "pod-selected-by-network-policy",
  missingPodDisruptionBudget: "workload-has-pdb",
  sensitiveContainerEnvVar: "env-no-secret-literals",
  sensitiveConfigmapContent: "configmap-no-secrets",
  clusterrolePodExecAttach: "rbac-no-exec-attach-proxy",
  rolePodExecAttach: "rbac-no-exec-attach-proxy",
  clusterrolebindingClusterAdmin: "rbac-no-cluster-admin-binding",
  rolebindingClusterAdminClusterRole: "rbac-no-cluster-admin-binding",
};

const tools: Tool[] = [
  {
    name: "mlops-policy",
    checks: `${allRules.length} rules`,
    run: () => timed(process.execPath, ["policies/bin/mlops-policy.js", "check", dir, "--format", "json"]),
    parse(stdout) {
      const report = JSON.parse(stdout) as {
        findings: {
          ruleId: string;
          status: string;
          subject: { kind: string; namespace: string; name: string };
        }[];
      };
      return report.findings
        .filter((f) => f.status === "violation")
        .map((f) => ({
          object: key(f.subject.kind, f.subject.namespace, f.subject.name),
          concept: f.ruleId,
        }));
    },
  },
];

const kubeScore = toolBin("kube-score", "kube-score");
if (kubeScore)
  tools.push({
    name: "kube-score",
    checks: "",
    run: () => timed(kubeScore, ["score", "--output-format", "json", ...files]),
    parse(stdout) {
      const out: Finding[] = [];
      const checkIds = new Set<string>();
      for (const o of JSON.parse(stdout) as {
        type_meta: { kind: string };
        object_meta: { name: string; namespace?: string };
        checks: { check: { id: string }; grade: number; skipped: boolean }[];
      }[]) {
        for (const c of o.checks) {
          checkIds.add(c.check.id);
          if (c.skipped || c.grade >= 10) continue;
          out.push({
            object: key(o.type_meta.kind, o.object_meta.namespace, o.object_meta.name),
            concept: KUBE_SCORE_MAP[c.check.id] ?? `kube-score:${c.check.id}`,
          });
        }
      }
      (this as { checks: string }).checks = `${checkIds.size} checks`;
      return out;
    },
  });
else console.log("bench: kube-score not built (npm run toolchain -- kube-score); skipped");

const polaris = toolBin("polaris", "polaris");
if (polaris)
  tools.push({
    name: "polaris",
    checks: "",
    run: () => timed(polaris, ["audit", "--audit-path", dir, "--format", "json"]),
    parse(stdout) {
      type Results = Record<string, { ID: string; Success: boolean }>;
      const out: Finding[] = [];
      const checkIds = new Set<string>();
      const add = (object: string, results: Results | null | undefined) => {
        for (const r of Object.values(results ?? {})) {
          checkIds.add(r.ID);
          if (!r.Success) out.push({ object, concept: POLARIS_MAP[r.ID] ?? `polaris:${r.ID}` });
        }
      };
      const audit = JSON.parse(stdout) as {
        Results: {
          Kind: string;
          Namespace: string;
          Name: string;
          Results: Results;
          PodResult?: { Results: Results; ContainerResults: { Results: Results }[] };
        }[];
      };
      for (const r of audit.Results ?? []) {
        const object = key(r.Kind, r.Namespace, r.Name);
        add(object, r.Results);
        add(object, r.PodResult?.Results);
        for (const c of r.PodResult?.ContainerResults ?? []) add(object, c.Results);
      }
      (this as { checks: string }).checks = `${checkIds.size} checks`;
      return out;
    },
  });
else console.log("bench: polaris not built (npm run toolchain -- polaris); skipped");

// ---- run ---------------------------------------------------------------------------------------
const times = new Map<string, number[]>(tools.map((t) => [t.name, []]));
const outputs = new Map<string, string>();
for (let r = 0; r < runs; r++) {
  for (let k = 0; k < tools.length; k++) {
    const t = tools[(r + k) % tools.length] as Tool;
    const { stdout, ms } = t.run();
    times.get(t.name)?.push(ms);
    outputs.set(t.name, stdout);
  }
  process.stdout.write(`bench: run ${r + 1}/${runs} done\n`);
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

const findings = new Map<string, Finding[]>();
for (const t of tools) findings.set(t.name, t.parse(outputs.get(t.name) ?? ""));

const fastestPeer = Math.min(...tools.slice(1).map((t) => median(times.get(t.name) ?? [])));
console.log("\n| tool | checks | median wall (ms) | per object (µs) | vs fastest peer | findings |");
console.log("|---|---|---|---|---|---|");
for (const t of tools) {
  const m = median(times.get(t.name) ?? []);
  const ratio = tools.length > 1 ? `${(m / fastestPeer).toFixed(2)}×` : "n/a";
  console.log(
    `| ${t.name} | ${t.checks} | ${m.toFixed(0)} | ${((m * 1000) / total).toFixed(1)} | ${ratio} | ${findings.get(t.name)?.length ?? 0} |`,
  );
}

// Overlap per concept: objects flagged by each tool, and by all of them.
const concepts = new Map<string, Map<string, Set<string>>>();
for (const [tool, list] of findings)
  for (const f of list) {
    const perTool = concepts.get(f.concept) ?? new Map<string, Set<string>>();
    const objs = perTool.get(tool) ?? new Set<string>();
    objs.add(f.object);
    perTool.set(tool, objs);
    concepts.set(f.concept, perTool);
  }
const names = tools.map((t) => t.name);
console.log(`\n| concept | ${names.join(" | ")} | flagged by all | only one tool |`);
console.log(`|---|${names.map(() => "---|").join("")}---|---|`);
const perReplica = (n: number) => (n / files.length).toFixed(n % files.length === 0 ? 0 : 1);
let onlyOurs = 0;
let onlyPeers = 0;
let shared = 0;
for (const [concept, perTool] of [...concepts].sort(([a], [b]) => a.localeCompare(b))) {
  const union = new Set([...perTool.values()].flatMap((s) => [...s]));
  let all = 0;
  let single = 0;
  for (const o of union) {
    const n = names.filter((t) => perTool.get(t)?.has(o)).length;
    if (n === names.length) all++;
    if (n === 1) single++;
  }
  if (perTool.size === 1) {
    if (perTool.has("mlops-policy")) onlyOurs++;
    else onlyPeers++;
  } else shared++;
  console.log(
    `| ${concept} | ${names.map((t) => perReplica(perTool.get(t)?.size ?? 0)).join(" | ")} | ${perReplica(all)} | ${perReplica(single)} |`,
  );
}
console.log(
  `\nbench: object counts per replica (÷${files.length}); ${concepts.size} concepts: ${shared} reported by more than one tool, ${onlyOurs} only by mlops-policy, ${onlyPeers} only by a peer`,
);
if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
else rmSync(dir, { recursive: true, force: true });
