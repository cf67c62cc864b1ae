import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type Engine, EngineError } from "../engine/engine";
import { parsePipelineObject, parsePipelineYaml, SpecError, type Trigger } from "../spec";
import type { Db } from "../store/db";
import { allows, authenticate, createToken, type Permission, ROLES, type Role, verifyHmac } from "./auth";
import { openApiDocument } from "./openapi";

const MAX_BODY = 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly problems?: readonly unknown[],
  ) {
    super(message);
  }
}

export interface Route {
  readonly method: "GET" | "PUT" | "POST";
  /** Path with `{param}` segments. */
  readonly path: string;
  readonly summary: string;
  /** `none`: no bearer token (health, metrics, HMAC-signed webhooks). */
  readonly permission: Permission | "none";
  readonly handler: (
    ctx: RequestContext,
  ) => Promise<{ status?: number; body: unknown; contentType?: string }>;
}

export interface RequestContext {
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
  /** Who made the request (`anonymous` for routes without a token). */
  readonly actor: string;
  json(): unknown;
}

export interface ApiOptions {
  readonly db: Db;
  readonly engine: Engine;
  /** Reads a webhook's HMAC secret by the environment variable name a trigger gives. */
  readonly secret: (envName: string) => string | undefined;
  readonly log?: (line: string) => void;
}

function str(v: unknown, field: string): string {
  if (typeof v !== "string" || v === "") throw new HttpError(400, `${field} must be a non-empty string.`);
  return v;
}

export function routes(opts: ApiOptions): Route[] {
  const { engine, db } = opts;
  const run = async (id: string) => {
    const r = await engine.getRun(id);
    if (!r) throw new HttpError(404, `no run "${id}".`);
    return r;
  };
  /** The pipeline a webhook names, and its trigger of that type (404 when either is missing). */
  const webhookTarget = async <T extends Trigger["type"]>(name: string, type: T) => {
    const p = await engine.getPipeline(name);
    const trigger = p?.spec.triggers.find((t): t is Extract<Trigger, { type: T }> => t.type === type);
    if (!p || !trigger) throw new HttpError(404, `pipeline "${name}" has no ${type} trigger.`);
    return { pipeline: p, trigger };
  };
  return [
    {
      method: "GET",
      path: "/healthz",
      summary: "Liveness",
      permission: "none",
      handler: async () => ({ body: { ok: true } }),
    },
    {
      method: "GET",
      path: "/readyz",
      summary: "Readiness: the database answers and the schema is current",
      permission: "none",
      handler: async () => {
        await db.query("SELECT 1 FROM schema_migrations LIMIT 1");
        return { body: { ok: true, leader: engine.isLeader } };
      },
    },
    {
      method: "GET",
      path: "/metrics",
      summary: "Prometheus metrics",
      permission: "none",
      handler: async () => {
        const g = await engine.gauges();
        const lines = [
          "# HELP mlops_runs Runs by state.",
          "# TYPE mlops_runs gauge",
          ...["queued", "running", "succeeded", "failed", "cancelled"].map(
            (s) => `mlops_runs{state="${s}"} ${g.runs[s] ?? 0}`,
          ),
          "# HELP mlops_queue_depth Work waiting: queued runs and steps ready to start.",
          "# TYPE mlops_queue_depth gauge",
          `mlops_queue_depth{kind="runs"} ${g.queuedRuns}`,
          `mlops_queue_depth{kind="steps"} ${g.pendingSteps}`,
          "# HELP mlops_leader Whether this process drives runs (1) or stands by (0).",
          "# TYPE mlops_leader gauge",
          `mlops_leader ${engine.isLeader ? 1 : 0}`,
        ];
        return {
          body: `${lines.join("\n")}\n${await engine.metrics.registry.metrics()}`,
          contentType: "text/plain; version=0.0.4",
        };
      },
    },
    {
      method: "GET",
      path: "/openapi.json",
      summary: "This API's OpenAPI document",
      permission: "none",
      handler: async () => ({ body: openApiDocument(routes(opts)) }),
    },
    {
      method: "GET",
      path: "/api/v1/pipelines",
      summary: "List pipelines",
      permission: "read",
      handler: async () => ({ body: { pipelines: await engine.listPipelines() } }),
    },
    {
      method: "PUT",
      path: "/api/v1/pipelines",
      summary: "Apply a pipeline (YAML or JSON body); unchanged specs keep their version",
      permission: "write",
      handler: async (ctx) => {
        const type = String(ctx.headers["content-type"] ?? "");
        const spec = type.includes("json")
          ? parsePipelineObject(ctx.json())
          : parsePipelineYaml(ctx.body.toString("utf8"), "request body");
        const r = await engine.applyPipeline(spec, ctx.actor);
        return { status: r.changed ? 201 : 200, body: { name: spec.name, ...r } };
      },
    },
    {
      method: "GET",
      path: "/api/v1/pipelines/{name}",
      summary: "Get a pipeline",
      permission: "read",
      handler: async (ctx) => {
        const p = await engine.getPipeline(ctx.params.name as string);
        if (!p) throw new HttpError(404, `no pipeline "${ctx.params.name}".`);
        return { body: p };
      },
    },
    {
      method: "POST",
      path: "/api/v1/pipelines/{name}/runs",
      summary: "Trigger a run manually; the Idempotency-Key header makes retries safe",
      permission: "write",
      handler: async (ctx) => {
        const body = ctx.body.length > 0 ? (ctx.json() as { params?: unknown }) : {};
        const params = body.params ?? {};
        if (
          typeof params !== "object" ||
          params === null ||
          Array.isArray(params) ||
          !Object.values(params).every((v) => typeof v === "string")
        )
          throw new HttpError(
            400,
            'params must be an object of strings, e.g. {"params": {"model": "churn"}}.',
          );
        const key = ctx.headers["idempotency-key"];
        const dedupeKey = `manual:${ctx.params.name}:${typeof key === "string" && key !== "" ? key : `${Date.now()}-${Math.random()}`}`;
        const r = await engine.trigger(ctx.params.name as string, {
          dedupeKey,
          source: "manual",
          actor: ctx.actor,
          params: params as Record<string, string>,
        });
        return { status: r.created ? 201 : 200, body: r };
      },
    },
    {
      method: "GET",
      path: "/api/v1/runs",
      summary: "List runs (filters: pipeline, state, limit)",
      permission: "read",
      handler: async (ctx) => {
        const limit = Number(ctx.query.get("limit") ?? 100);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          throw new HttpError(400, "limit must be a whole number from 1 to 1000.");
        const state = ctx.query.get("state") ?? undefined;
        if (state && !["queued", "running", "succeeded", "failed", "cancelled"].includes(state))
          throw new HttpError(
            400,
            `state "${state}" is not one of queued, running, succeeded, failed, cancelled.`,
          );
        return {
          body: {
            runs: await engine.listRuns({ pipeline: ctx.query.get("pipeline") ?? undefined, state, limit }),
          },
        };
      },
    },
    {
      method: "GET",
      path: "/api/v1/runs/{id}",
      summary: "Get a run with its steps",
      permission: "read",
      handler: async (ctx) => ({ body: await run(ctx.params.id as string) }),
    },
    {
      method: "POST",
      path: "/api/v1/runs/{id}/cancel",
      summary: "Cancel a queued or running run",
      permission: "write",
      handler: async (ctx) => ({
        body: { id: ctx.params.id, state: await engine.cancel(ctx.params.id as string, ctx.actor) },
      }),
    },
    {
      method: "POST",
      path: "/api/v1/runs/{id}/steps/{step}/approval",
      summary: "Approve or reject a waiting approval step",
      permission: "approve",
      handler: async (ctx) => {
        const b = ctx.json() as { decision?: unknown; comment?: unknown };
        if (b.decision !== "approved" && b.decision !== "rejected")
          throw new HttpError(
            400,
            `decision is ${JSON.stringify(b.decision)}; send {"decision": "approved"} or {"decision": "rejected"}.`,
          );
        if (b.comment !== undefined && typeof b.comment !== "string")
          throw new HttpError(400, "comment must be a string.");
        await engine.decide(
          ctx.params.id as string,
          ctx.params.step as string,
          b.decision,
          ctx.actor,
          b.comment,
        );
        return { body: { id: ctx.params.id, step: ctx.params.step, decision: b.decision } };
      },
    },
    {
      method: "GET",
      path: "/api/v1/runs/{id}/events",
      summary: "The run's audit trail",
      permission: "read",
      handler: async (ctx) => ({ body: { events: await engine.events(ctx.params.id as string) } }),
    },
    {
      method: "GET",
      path: "/api/v1/runs/{id}/steps/{step}/logs",
      summary: "Logs of every attempt of a step",
      permission: "read",
      handler: async (ctx) => ({
        body: { logs: await engine.logs(ctx.params.id as string, ctx.params.step as string) },
      }),
    },
    {
      method: "POST",
      path: "/api/v1/hooks/git/{name}",
      summary: "Git push webhook (GitHub/Gitea/GitLab-compatible X-Hub-Signature-256 HMAC; no bearer token)",
      permission: "none",
      handler: async (ctx) => {
        const { pipeline: p, trigger } = await webhookTarget(ctx.params.name as string, "git");
        const secret = opts.secret(trigger.secretEnv);
        if (!secret)
          throw new HttpError(
            503,
            `the runtime has no ${trigger.secretEnv} set; the webhook cannot be verified.`,
          );
        if (!verifyHmac(secret, ctx.body, ctx.headers["x-hub-signature-256"] as string | undefined))
          throw new HttpError(401, "the X-Hub-Signature-256 HMAC does not match the body.");
        const event = ctx.json() as { ref?: unknown; after?: unknown };
        const branch = typeof event.ref === "string" ? event.ref.replace(/^refs\/heads\//, "") : "";
        if (trigger.branches.length > 0 && !trigger.branches.includes(branch))
          return { status: 202, body: { ignored: `branch "${branch}" is not watched` } };
        const delivery =
          ctx.headers["x-github-delivery"] ??
          ctx.headers["x-gitea-delivery"] ??
          `${branch}@${String(event.after)}`;
        const r = await engine.trigger(p.name, {
          dedupeKey: `git:${p.name}:${String(delivery)}`,
          source: "git",
          actor: "git-webhook",
          detail: { branch, commit: typeof event.after === "string" ? event.after : undefined },
        });
        return { status: r.created ? 201 : 200, body: r };
      },
    },
    {
      method: "POST",
      path: "/api/v1/hooks/alertmanager/{name}",
      summary: "Alertmanager webhook: firing alerts (drift, performance) trigger a run, once per alert",
      permission: "write",
      handler: async (ctx) => {
        const { pipeline: p, trigger } = await webhookTarget(ctx.params.name as string, "alert");
        const b = ctx.json() as {
          alerts?: {
            status?: string;
            labels?: Record<string, string>;
            startsAt?: string;
            fingerprint?: string;
          }[];
        };
        if (!Array.isArray(b.alerts))
          throw new HttpError(
            400,
            "the body has no alerts list; send Alertmanager's webhook payload (version 4).",
          );
        const runs: { runId: string; created: boolean }[] = [];
        for (const a of b.alerts) {
          if (a.status !== "firing") continue;
          const name = a.labels?.alertname ?? "";
          if (trigger.alertnames.length > 0 && !trigger.alertnames.includes(name)) continue;
          runs.push(
            await engine.trigger(p.name, {
              dedupeKey: `alert:${p.name}:${a.fingerprint ?? JSON.stringify(a.labels)}:${a.startsAt ?? ""}`,
              source: "alert",
              actor: ctx.actor,
              detail: { alertname: name },
            }),
          );
        }
        return { status: runs.some((r) => r.created) ? 201 : 200, body: { runs } };
      },
    },
    {
      method: "POST",
      path: "/api/v1/tokens",
      summary: "Create an API token (shown once)",
      permission: "admin",
      handler: async (ctx) => {
        const b = ctx.json() as { name?: unknown; role?: unknown };
        const role = str(b.role, "role");
        if (!ROLES.includes(role as Role))
          throw new HttpError(400, `role "${role}" is not one of ${ROLES.join(", ")}.`);
        const token = await createToken(db, str(b.name, "name"), role as Role).catch((err: Error) => {
          throw new HttpError(/duplicate|unique/i.test(err.message) ? 409 : 400, err.message);
        });
        return { status: 201, body: { name: b.name, role, token } };
      },
    },
  ];
}

function match(route: Route, path: string): Record<string, string> | undefined {
  const want = route.path.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = decodeURIComponent(got[i] as string);
    if (w.startsWith("{")) params[w.slice(1, -1)] = g;
    else if (w !== g) return undefined;
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, `the body is over ${MAX_BODY} bytes.`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The HTTP API: bearer tokens (hashed), roles, JSON errors that say what to fix. */
export function createApiServer(opts: ApiOptions): Server {
  const table = routes(opts);
  const log = opts.log ?? (() => undefined);
  return createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://runtime");
    let routeLabel = "unmatched";
    const send = (status: number, body: unknown, contentType = "application/json") => {
      opts.engine.metrics.httpRequests.inc({ route: routeLabel, status: String(status) });
      res.writeHead(status, { "content-type": contentType });
      res.end(typeof body === "string" ? body : JSON.stringify(body, null, 2));
    };
    try {
      const candidates = table.filter((r) => match(r, url.pathname));
      if (candidates.length === 0) throw new HttpError(404, `no route ${url.pathname}; see /openapi.json.`);
      const route = candidates.find((r) => r.method === req.method);
      if (!route)
        throw new HttpError(
          405,
          `${req.method} is not allowed on ${url.pathname}; use ${candidates.map((r) => r.method).join(" or ")}.`,
        );
      routeLabel = `${route.method} ${route.path}`;
      let actor = "anonymous";
      if (route.permission !== "none") {
        const who = await authenticate(opts.db, req.headers.authorization);
        if (!who)
          throw new HttpError(401, "missing or unknown bearer token; send Authorization: Bearer <token>.");
        if (!allows(who.role, route.permission))
          throw new HttpError(
            403,
            `token "${who.name}" has role ${who.role}, which may not ${route.permission} (${route.summary.toLowerCase()}).`,
          );
        actor = `token:${who.name}`;
      }
      const body = req.method === "GET" ? Buffer.alloc(0) : await readBody(req);
      const ctx: RequestContext = {
        params: match(route, url.pathname) as Record<string, string>,
        query: url.searchParams,
        headers: req.headers,
        body,
        actor,
        json() {
          try {
            return JSON.parse(body.toString("utf8") || "null") ?? {};
          } catch (err) {
            throw new HttpError(400, `the body is not valid JSON: ${(err as Error).message}.`);
          }
        },
      };
      const out = await route.handler(ctx);
      send(out.status ?? 200, out.body, out.contentType);
    } catch (err) {
      if (err instanceof HttpError)
        send(err.status, {
          error: {
            status: err.status,
            message: err.message,
            ...(err.problems ? { problems: err.problems } : {}),
          },
        });
      else if (err instanceof SpecError)
        send(400, { error: { status: 400, message: err.message, problems: err.problems } });
      else if (err instanceof EngineError)
        send(err.status, { error: { status: err.status, message: err.message } });
      else {
        log(`api: ${req.method} ${url.pathname}: ${err instanceof Error ? err.stack : String(err)}`);
        send(500, { error: { status: 500, message: "internal error; the runtime's log has the details." } });
      }
    }
  });
}
