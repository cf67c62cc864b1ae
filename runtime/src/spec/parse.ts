import { CronExpressionParser } from "cron-parser";
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from "yaml";
import { SpecProblems } from "./problems";
import type { Pipeline, RetryPolicy, Step, Trigger } from "./types";

export const API_VERSION = "mlops-platform.io/v1";
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|M|Mi|G|Gi|T|Ti)?$/;
const TRIGGER_TYPES = [
  "manual",
  "schedule",
  "git",
  "alert",
  "objectStore",
  "featureStore",
  "modelVersion",
] as const;
const STEP_KINDS = ["container", "approval"] as const;
/** Longest pipeline / step names: the Job name `<pipeline>-<run id (12)>-<step>-<attempt>` must fit 63. */
export const MAX_PIPELINE_NAME = 20;
export const MAX_STEP_NAME = 20;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** Finds the line of a property path (`spec.steps[1].name`) in a YAML document. */
function lineFinder(doc: ReturnType<typeof parseDocument>, counter: LineCounter) {
  return (path: string): number | undefined => {
    const keys = path.split(/\.|\[(\d+)\]/).filter((k) => k !== undefined && k !== "");
    let node: unknown = doc.contents;
    let last: YamlNode | undefined;
    for (const key of keys) {
      if (isMap(node)) {
        const pair = node.items.find((i) => (i.key as { value?: unknown })?.value === key);
        if (!pair) break;
        last = pair.key as YamlNode;
        node = pair.value;
      } else if (isSeq(node) && /^\d+$/.test(key)) {
        node = node.items[Number(key)];
        if (!node) break;
        last = node as YamlNode;
      } else break;
    }
    const offset = last?.range?.[0];
    return offset === undefined ? undefined : counter.linePos(offset).line;
  };
}

/** Parses and validates a pipeline spec file (YAML or JSON); throws SpecError with every problem. */
export function parsePipelineYaml(text: string, file: string): Pipeline {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const p = new SpecProblems(file);
    for (const e of doc.errors)
      p.items.push({
        file,
        path: "(document)",
        line: counter.linePos(e.pos[0]).line,
        message: `is not valid YAML: ${e.message.split("\n")[0]}`,
        fix: "correct the YAML syntax at that line.",
      });
    p.throwIfAny();
  }
  return validatePipeline(doc.toJS(), new SpecProblems(file, lineFinder(doc, counter)));
}

/** Validates an already parsed object (an API request's JSON body). */
export function parsePipelineObject(value: unknown, source = "request body"): Pipeline {
  return validatePipeline(value, new SpecProblems(source));
}

function validatePipeline(raw: unknown, p: SpecProblems): Pipeline {
  if (!isObj(raw)) {
    p.add(
      "(document)",
      "must be a mapping with apiVersion, kind, metadata and spec.",
      `start from: apiVersion: ${API_VERSION}, kind: Pipeline.`,
    );
    p.throwIfAny();
  }
  const doc = raw as Obj;
  if (doc.apiVersion !== API_VERSION)
    p.add(
      "apiVersion",
      `is ${JSON.stringify(doc.apiVersion)}, not "${API_VERSION}".`,
      `set apiVersion: ${API_VERSION}.`,
    );
  if (doc.kind !== "Pipeline")
    p.add("kind", `is ${JSON.stringify(doc.kind)}, not "Pipeline".`, "set kind: Pipeline.");
  const meta = isObj(doc.metadata) ? doc.metadata : {};
  const name = meta.name;
  if (typeof name !== "string" || !NAME.test(name) || name.length > MAX_PIPELINE_NAME)
    p.add(
      "metadata.name",
      `${JSON.stringify(name)} is not a name of at most ${MAX_PIPELINE_NAME} lowercase letters, digits and '-'.`,
      'use e.g. "churn-training".',
    );
  if (!isObj(doc.spec)) p.add("spec", "is missing.", "add spec: with steps.");
  const spec: Obj = isObj(doc.spec) ? doc.spec : {};

  const params: Record<string, string> = {};
  if (spec.params !== undefined) {
    if (!isObj(spec.params))
      p.add("spec.params", "must be a mapping of names to strings.", "write params: { model: churn }.");
    else
      for (const [k, v] of Object.entries(spec.params)) {
        if (!ENV_NAME.test(k))
          p.add(`spec.params.${k}`, "is not a parameter name (letters, digits, '_').", "rename it.");
        if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean")
          p.add(`spec.params.${k}`, "must be a string, number or boolean.", "quote the value.");
        else params[k] = String(v);
      }
  }

  const conc = isObj(spec.concurrency) ? spec.concurrency : {};
  const policy = conc.policy ?? "queue";
  if (policy !== "queue" && policy !== "replace")
    p.add(
      "spec.concurrency.policy",
      `is ${JSON.stringify(policy)}.`,
      'use "queue" (wait for the run in flight) or "replace" (cancel it).',
    );
  if (conc.key !== undefined && (typeof conc.key !== "string" || !ENV_NAME.test(conc.key)))
    p.add(
      "spec.concurrency.key",
      `${JSON.stringify(conc.key)} is not a parameter name.`,
      'name a parameter, e.g. "model".',
    );
  else if (typeof conc.key === "string" && params[conc.key] === undefined)
    p.add(
      "spec.concurrency.key",
      `names "${conc.key}", which spec.params does not define.`,
      `add a default: params: { ${conc.key}: ... }.`,
    );

  const triggers = parseTriggers(spec.triggers, p);
  const steps = parseSteps(spec.steps, p);
  p.throwIfAny();
  return {
    name: name as string,
    params,
    concurrency: {
      ...(typeof conc.key === "string" ? { key: conc.key } : {}),
      policy: policy as "queue" | "replace",
    },
    triggers,
    steps,
  };
}

function int(p: SpecProblems, path: string, v: unknown, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    p.add(
      path,
      `is ${JSON.stringify(v)}; must be a whole number from ${min} to ${max}.`,
      `set a value in that range, or leave it out for ${def}.`,
    );
    return def;
  }
  return v;
}

function strings(p: SpecProblems, path: string, v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
    p.add(path, "must be a list of strings.", 'write e.g. ["python", "train.py"].');
    return [];
  }
  return v as string[];
}

function parseTriggers(raw: unknown, p: SpecProblems): Trigger[] {
  if (raw === undefined) return [{ type: "manual" }];
  if (!Array.isArray(raw)) {
    p.add("spec.triggers", "must be a list.", "write triggers: [{ type: manual }].");
    return [];
  }
  const out: Trigger[] = [];
  raw.forEach((t, i) => {
    const path = `spec.triggers[${i}]`;
    if (!isObj(t) || !TRIGGER_TYPES.includes(t.type as never)) {
      p.add(
        `${path}.type`,
        `is ${JSON.stringify(isObj(t) ? t.type : t)}.`,
        `use one of ${TRIGGER_TYPES.join(", ")}.`,
      );
      return;
    }
    const poll = (def: number) => int(p, `${path}.pollSeconds`, t.pollSeconds, def, 5, 86400);
    switch (t.type) {
      case "manual":
        out.push({ type: "manual" });
        break;
      case "schedule": {
        const cron = t.cron;
        const timezone = typeof t.timezone === "string" ? t.timezone : "UTC";
        const fields = typeof cron === "string" ? cron.trim().split(/\s+/) : [];
        let ok = fields.length === 5;
        if (ok)
          try {
            CronExpressionParser.parse(cron as string, { tz: timezone });
          } catch {
            ok = false;
          }
        if (!ok)
          p.add(
            `${path}.cron`,
            `${JSON.stringify(cron)} is not a 5-field cron expression (in ${timezone}).`,
            'write e.g. "0 3 * * *" (03:00 daily) with a valid IANA timezone.',
          );
        out.push({ type: "schedule", cron: String(cron), timezone });
        break;
      }
      case "git":
        if (typeof t.secretEnv !== "string" || !ENV_NAME.test(t.secretEnv))
          p.add(
            `${path}.secretEnv`,
            "must name the environment variable holding the webhook's HMAC secret.",
            "set secretEnv: GIT_WEBHOOK_SECRET (filled from a Secret).",
          );
        out.push({
          type: "git",
          secretEnv: String(t.secretEnv),
          branches: strings(p, `${path}.branches`, t.branches),
        });
        break;
      case "alert":
        out.push({ type: "alert", alertnames: strings(p, `${path}.alertnames`, t.alertnames) });
        break;
      case "objectStore":
        if (typeof t.bucket !== "string" || t.bucket === "")
          p.add(`${path}.bucket`, "is required.", "name the bucket to watch.");
        out.push({
          type: "objectStore",
          bucket: String(t.bucket),
          prefix: typeof t.prefix === "string" ? t.prefix : "",
          pollSeconds: poll(60),
          debounceSeconds: int(p, `${path}.debounceSeconds`, t.debounceSeconds, 60, 0, 86400),
        });
        break;
      case "featureStore":
        out.push({
          type: "featureStore",
          featureViews: strings(p, `${path}.featureViews`, t.featureViews),
          pollSeconds: poll(60),
        });
        break;
      case "modelVersion":
        if (typeof t.model !== "string" || t.model === "")
          p.add(`${path}.model`, "is required.", "name the registered model to watch.");
        out.push({ type: "modelVersion", model: String(t.model), pollSeconds: poll(30) });
        break;
    }
  });
  return out;
}

function parseRetries(p: SpecProblems, path: string, raw: unknown): RetryPolicy {
  const r = isObj(raw) ? raw : {};
  if (raw !== undefined && !isObj(raw))
    p.add(path, "must be a mapping.", "write retries: { limit: 2, backoffSeconds: 10 }.");
  return {
    limit: int(p, `${path}.limit`, r.limit, 0, 0, 20),
    backoffSeconds: int(p, `${path}.backoffSeconds`, r.backoffSeconds, 10, 0, 3600),
    factor: int(p, `${path}.factor`, r.factor, 2, 1, 10),
    maxBackoffSeconds: int(p, `${path}.maxBackoffSeconds`, r.maxBackoffSeconds, 600, 0, 86400),
  };
}

function parseSteps(raw: unknown, p: SpecProblems): Step[] {
  if (!Array.isArray(raw) || raw.length === 0) {
    p.add(
      "spec.steps",
      "must list at least one step.",
      "add steps: [{ name: train, image: ..., command: [...] }].",
    );
    return [];
  }
  const names = new Map<string, number>();
  const steps: Step[] = [];
  raw.forEach((s, i) => {
    const path = `spec.steps[${i}]`;
    if (!isObj(s)) {
      p.add(path, "must be a mapping.", "give the step a name and an image.");
      return;
    }
    const name = s.name;
    if (typeof name !== "string" || !NAME.test(name) || name.length > MAX_STEP_NAME)
      p.add(
        `${path}.name`,
        `${JSON.stringify(name)} is not a name of at most ${MAX_STEP_NAME} lowercase letters, digits and '-'.`,
        'use e.g. "train".',
      );
    else if (names.has(name))
      p.add(
        `${path}.name`,
        `"${name}" is also the name of step ${names.get(name)}.`,
        "give each step its own name.",
      );
    else names.set(name, i);
    const kind = s.kind ?? "container";
    if (!STEP_KINDS.includes(kind as never)) {
      p.add(`${path}.kind`, `is ${JSON.stringify(kind)}.`, `use one of ${STEP_KINDS.join(", ")}.`);
      return;
    }
    const base = {
      name: String(name),
      dependsOn: strings(p, `${path}.dependsOn`, s.dependsOn),
      retries: parseRetries(p, `${path}.retries`, s.retries),
      timeoutSeconds: int(
        p,
        `${path}.timeoutSeconds`,
        s.timeoutSeconds,
        kind === "approval" ? 7 * 86400 : 6 * 3600,
        1,
        30 * 86400,
      ),
    };
    if (kind === "approval") {
      steps.push({
        ...base,
        kind: "approval",
        approval: { prompt: typeof s.prompt === "string" ? s.prompt : `Approve ${String(name)}?` },
      });
      return;
    }
    if (typeof s.image !== "string" || !/^[^\s:@]+(:[^\s@]+)?(@sha256:[a-f0-9]{64})?$/.test(s.image))
      p.add(
        `${path}.image`,
        `${JSON.stringify(s.image)} is not an image reference.`,
        'write e.g. "ghcr.io/acme/train:1.4.0".',
      );
    const env: Record<string, string> = {};
    if (s.env !== undefined) {
      if (!isObj(s.env))
        p.add(`${path}.env`, "must be a mapping of names to values.", 'write env: { EPOCHS: "10" }.');
      else
        for (const [k, v] of Object.entries(s.env)) {
          if (!ENV_NAME.test(k))
            p.add(`${path}.env.${k}`, "is not an environment variable name.", "use letters, digits and '_'.");
          else if (/(PASSWORD|SECRET|TOKEN|API_?KEY)/i.test(k))
            p.add(
              `${path}.env.${k}`,
              "looks like a secret; specs are stored and shown in plain text.",
              "mount it from a Kubernetes Secret instead (env values here are not secret).",
            );
          else env[k] = String(v);
        }
    }
    const r = isObj(s.resources) ? s.resources : {};
    for (const q of ["cpu", "memory"] as const)
      if (r[q] !== undefined && (typeof r[q] !== "string" || !QUANTITY.test(r[q] as string)))
        p.add(
          `${path}.resources.${q}`,
          `${JSON.stringify(r[q])} is not a Kubernetes quantity.`,
          'write it like "500m", "2" or "4Gi".',
        );
    const command = strings(p, `${path}.command`, s.command);
    if (command.length === 0)
      p.add(`${path}.command`, "is required.", 'give the program to run, e.g. ["python", "train.py"].');
    steps.push({
      ...base,
      kind: "container",
      container: {
        image: String(s.image),
        command,
        args: strings(p, `${path}.args`, s.args),
        env,
        resources: {
          ...(typeof r.cpu === "string" ? { cpu: r.cpu } : {}),
          ...(typeof r.memory === "string" ? { memory: r.memory } : {}),
          gpu: int(p, `${path}.resources.gpu`, r.gpu, 0, 0, 16),
        },
      },
    });
  });
  // The DAG: every dependency exists, and there is no cycle.
  steps.forEach((s, i) => {
    s.dependsOn.forEach((d, j) => {
      if (!names.has(d))
        p.add(
          `spec.steps[${i}].dependsOn[${j}]`,
          `names "${d}", which is not a step.`,
          `use one of ${[...names.keys()].join(", ")}.`,
        );
      if (d === s.name) p.add(`spec.steps[${i}].dependsOn[${j}]`, "names the step itself.", "remove it.");
    });
  });
  const cycle = findCycle(steps);
  if (cycle)
    p.add(
      `spec.steps[${names.get(cycle[0] as string)}].dependsOn`,
      `forms a cycle: ${cycle.join(" -> ")}.`,
      "remove one of those dependencies.",
    );
  return steps;
}

function findCycle(steps: readonly Step[]): string[] | undefined {
  const deps = new Map(steps.map((s) => [s.name, s.dependsOn]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === "done") return undefined;
    if (state.get(n) === "visiting") return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, "visiting");
    stack.push(n);
    for (const d of deps.get(n) ?? []) {
      if (d === n || !deps.has(d)) continue;
      const c = visit(d);
      if (c) return c;
    }
    stack.pop();
    state.set(n, "done");
    return undefined;
  };
  for (const s of steps) {
    const c = visit(s.name);
    if (c) return c;
  }
  return undefined;
}
