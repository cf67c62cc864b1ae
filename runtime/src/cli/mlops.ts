import { readFileSync } from "node:fs";
import { parsePipelineYaml, SpecError } from "../spec";

/**
 * `mlops`: the runtime's CLI. `mlops serve` runs the service; every other command talks to its API
 * (MLOPS_URL, default http://127.0.0.1:8080) with the bearer token in MLOPS_TOKEN.
 */
const USAGE = `usage:
  mlops serve                                   run the runtime (settings: see runtime/src/serve.ts)
  mlops apply -f <pipeline.yaml>                create or update a pipeline
  mlops trigger <pipeline> [--param k=v]... [--idempotency-key K] [--wait]
  mlops runs [--pipeline P] [--state S]         list runs
  mlops runs <run-id>                           one run with its steps
  mlops logs <run-id> <step> [--follow]
  mlops approve|reject <run-id> <step> [--comment TEXT]
  mlops cancel <run-id>
  mlops token create <name> --role viewer|operator|approver|admin`;

export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 2,
  ) {
    super(message);
  }
}

export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly out: (line: string) => void;
  readonly fetch?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
}

function flags(args: string[]): { positional: string[]; opts: Map<string, string[]>; bools: Set<string> } {
  const positional: string[] = [];
  const opts = new Map<string, string[]>();
  const bools = new Set<string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--wait" || a === "--follow") bools.add(a.slice(2));
    else if (a.startsWith("-")) {
      const v = args[++i];
      if (v === undefined) throw new CliError(`${a} needs a value.\n${USAGE}`);
      const key = a.replace(/^-+/, "");
      opts.set(key, [...(opts.get(key) ?? []), v]);
    } else positional.push(a);
  }
  return { positional, opts, bools };
}

function client(io: CliIo) {
  const base = (io.env.MLOPS_URL ?? "http://127.0.0.1:8080").replace(/\/$/, "");
  const doFetch = io.fetch ?? fetch;
  return async <T>(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: T }> => {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: {
          ...(io.env.MLOPS_TOKEN ? { authorization: `Bearer ${io.env.MLOPS_TOKEN}` } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body } : {}),
      });
    } catch (err) {
      throw new CliError(
        `cannot reach the runtime at ${base} (${(err as Error).message}). Fix: start it (mlops serve) or set MLOPS_URL.`,
      );
    }
    const text = await res.text();
    const parsed = text
      ? (JSON.parse(text) as T & { error?: { message: string } })
      : ({} as T & { error?: { message: string } });
    if (res.status >= 400)
      throw new CliError(`${method} ${path}: ${res.status}: ${parsed.error?.message ?? text}`);
    return { status: res.status, body: parsed };
  };
}

type Step = { name: string; state: string; attempt: number; message: string | null };
type Run = { id: string; pipeline: string; state: string; message: string | null; steps: Step[] };

export async function run(argv: string[], io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  const { positional, opts, bools } = flags(rest);
  const api = client(io);
  const sleep = io.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  switch (cmd) {
    case "apply": {
      const file = opts.get("f")?.[0] ?? opts.get("file")?.[0];
      if (!file) throw new CliError(`apply needs -f <pipeline.yaml>.\n${USAGE}`);
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
      }
      try {
        parsePipelineYaml(text, file); // file and line numbers, before anything is sent
      } catch (err) {
        if (err instanceof SpecError) throw new CliError(err.message);
        throw err;
      }
      const r = await api<{ name: string; version: number; changed: boolean }>(
        "PUT",
        "/api/v1/pipelines",
        text,
        { "content-type": "application/yaml" },
      );
      io.out(
        `pipeline ${r.body.name}: version ${r.body.version} (${r.body.changed ? "applied" : "unchanged"})`,
      );
      return 0;
    }
    case "trigger": {
      const [pipeline] = positional;
      if (!pipeline) throw new CliError(`trigger needs a pipeline name.\n${USAGE}`);
      const params: Record<string, string> = {};
      for (const p of opts.get("param") ?? []) {
        const i = p.indexOf("=");
        if (i < 1) throw new CliError(`--param ${p}: write it as name=value.`);
        params[p.slice(0, i)] = p.slice(i + 1);
      }
      const key = opts.get("idempotency-key")?.[0];
      const r = await api<{ runId: string; created: boolean }>(
        "POST",
        `/api/v1/pipelines/${encodeURIComponent(pipeline)}/runs`,
        JSON.stringify({ params }),
        {
          "content-type": "application/json",
          ...(key ? { "idempotency-key": key } : {}),
        },
      );
      io.out(`run ${r.body.runId} ${r.body.created ? "created" : "already exists for this idempotency key"}`);
      if (!bools.has("wait")) return 0;
      // Progress: one line per step state change until the run ends.
      const seen = new Map<string, string>();
      for (;;) {
        const { body: cur } = await api<Run>("GET", `/api/v1/runs/${r.body.runId}`);
        for (const s of cur.steps) {
          const line = `${s.state}${s.attempt > 1 ? ` (attempt ${s.attempt})` : ""}`;
          if (seen.get(s.name) !== line) {
            seen.set(s.name, line);
            io.out(`  ${s.name}: ${line}${s.message ? ` - ${s.message}` : ""}`);
          }
        }
        if (["succeeded", "failed", "cancelled"].includes(cur.state)) {
          io.out(`run ${cur.id}: ${cur.state}${cur.message ? ` - ${cur.message}` : ""}`);
          return cur.state === "succeeded" ? 0 : 1;
        }
        await sleep(500);
      }
    }
    case "runs": {
      if (positional[0]) {
        const { body } = await api<Run>("GET", `/api/v1/runs/${encodeURIComponent(positional[0])}`);
        io.out(`run ${body.id} (${body.pipeline}): ${body.state}${body.message ? ` - ${body.message}` : ""}`);
        for (const s of body.steps)
          io.out(
            `  ${s.name.padEnd(20)} ${s.state.padEnd(10)} attempt ${s.attempt}${s.message ? `  ${s.message}` : ""}`,
          );
        return 0;
      }
      const q = new URLSearchParams();
      for (const k of ["pipeline", "state"]) if (opts.get(k)) q.set(k, opts.get(k)?.[0] as string);
      const { body } = await api<{
        runs: { id: string; pipeline: string; state: string; created_at: string }[];
      }>("GET", `/api/v1/runs?${q}`);
      for (const r of body.runs)
        io.out(`${r.id}  ${r.pipeline.padEnd(20)} ${r.state.padEnd(10)} ${r.created_at}`);
      return 0;
    }
    case "logs": {
      const [runId, step] = positional;
      if (!runId || !step) throw new CliError(`logs needs <run-id> <step>.\n${USAGE}`);
      const printed = new Map<number, number>();
      for (;;) {
        const { body } = await api<{ logs: { attempt: number; text: string }[] }>(
          "GET",
          `/api/v1/runs/${runId}/steps/${step}/logs`,
        );
        for (const l of body.logs) {
          const done = printed.get(l.attempt) ?? 0;
          if (l.text.length > done) {
            if (done === 0 && body.logs.length > 1) io.out(`--- attempt ${l.attempt}`);
            io.out(l.text.slice(done).replace(/\n$/, ""));
            printed.set(l.attempt, l.text.length);
          }
        }
        if (!bools.has("follow")) return 0;
        const { body: cur } = await api<Run>("GET", `/api/v1/runs/${runId}`);
        if (
          ["succeeded", "failed", "cancelled", "skipped"].includes(
            cur.steps.find((s) => s.name === step)?.state ?? "",
          )
        )
          return 0;
        await sleep(1000);
      }
    }
    case "approve":
    case "reject": {
      const [runId, step] = positional;
      if (!runId || !step) throw new CliError(`${cmd} needs <run-id> <step>.\n${USAGE}`);
      const comment = opts.get("comment")?.[0];
      await api(
        "POST",
        `/api/v1/runs/${runId}/steps/${step}/approval`,
        JSON.stringify({
          decision: cmd === "approve" ? "approved" : "rejected",
          ...(comment ? { comment } : {}),
        }),
        {
          "content-type": "application/json",
        },
      );
      io.out(`run ${runId} step ${step}: ${cmd === "approve" ? "approved" : "rejected"}`);
      return 0;
    }
    case "cancel": {
      if (!positional[0]) throw new CliError(`cancel needs <run-id>.\n${USAGE}`);
      await api("POST", `/api/v1/runs/${positional[0]}/cancel`, "");
      io.out(`run ${positional[0]}: cancelled`);
      return 0;
    }
    case "token": {
      const [sub, name] = positional;
      const role = opts.get("role")?.[0];
      if (sub !== "create" || !name || !role)
        throw new CliError(`token create needs <name> --role <role>.\n${USAGE}`);
      const { body } = await api<{ token: string }>(
        "POST",
        "/api/v1/tokens",
        JSON.stringify({ name, role }),
        { "content-type": "application/json" },
      );
      io.out(body.token);
      return 0;
    }
    default:
      throw new CliError(cmd ? `unknown command "${cmd}".\n${USAGE}` : USAGE);
  }
}
