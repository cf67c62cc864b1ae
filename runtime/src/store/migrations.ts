import type { Db } from "./db";

/**
 * Versioned schema migrations, applied in order, each once, in its own transaction. Append new
 * ones; never edit an applied one. An advisory lock keeps two replicas from migrating at once.
 */
export const MIGRATIONS: readonly {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}[] = [
  {
    version: 1,
    name: "pipelines, runs, steps, triggers, approvals, logs, tokens, audit",
    sql: `
CREATE TABLE pipelines (
  name text PRIMARY KEY,
  version integer NOT NULL,
  spec jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE runs (
  id text PRIMARY KEY,
  pipeline text NOT NULL REFERENCES pipelines(name),
  pipeline_version integer NOT NULL,
  spec jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('queued','running','succeeded','failed','cancelled')),
  concurrency_key text NOT NULL,
  params jsonb NOT NULL,
  trigger jsonb NOT NULL,
  message text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  started_at timestamptz,
  finished_at timestamptz
);
CREATE INDEX runs_active ON runs (concurrency_key, created_at) WHERE state IN ('queued','running');
CREATE INDEX runs_by_pipeline ON runs (pipeline, created_at DESC);
CREATE TABLE steps (
  run_id text NOT NULL REFERENCES runs(id),
  name text NOT NULL,
  kind text NOT NULL,
  state text NOT NULL CHECK (state IN ('pending','starting','running','waiting','succeeded','failed','skipped','cancelled')),
  attempt integer NOT NULL DEFAULT 0,
  executor_name text,
  not_before timestamptz NOT NULL DEFAULT clock_timestamp(),
  started_at timestamptz,
  finished_at timestamptz,
  exit_code integer,
  message text,
  PRIMARY KEY (run_id, name)
);
CREATE INDEX steps_live ON steps (state) WHERE state IN ('pending','starting','running','waiting');
CREATE TABLE trigger_deliveries (
  dedupe_key text PRIMARY KEY,
  pipeline text NOT NULL,
  run_id text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE trigger_state (
  pipeline text NOT NULL,
  trigger_index integer NOT NULL,
  state jsonb NOT NULL,
  PRIMARY KEY (pipeline, trigger_index)
);
CREATE TABLE approvals (
  run_id text NOT NULL,
  step text NOT NULL,
  decision text NOT NULL CHECK (decision IN ('approved','rejected')),
  actor text NOT NULL,
  comment text,
  decided_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, step)
);
CREATE TABLE step_logs (
  run_id text NOT NULL,
  step text NOT NULL,
  attempt integer NOT NULL,
  seq integer NOT NULL,
  text text NOT NULL,
  PRIMARY KEY (run_id, step, attempt, seq)
);
CREATE TABLE api_tokens (
  name text PRIMARY KEY,
  hash text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('viewer','operator','approver','admin')),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT clock_timestamp(),
  actor text NOT NULL,
  entity text NOT NULL,
  entity_id text NOT NULL,
  from_state text,
  to_state text,
  detail jsonb
);
CREATE INDEX audit_by_entity ON audit_log (entity, entity_id, id);
`,
  },
];

const MIGRATION_LOCK = 727_001;

/** Brings the schema up to date; returns the versions it applied. */
export async function migrate(db: Db): Promise<number[]> {
  return db.tx(async (q) => {
    await q.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await q.query(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const done = new Set(
      (await q.query<{ version: number }>("SELECT version FROM schema_migrations")).map((r) => r.version),
    );
    const applied: number[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      for (const statement of m.sql
        .split(/;\s*\n/)
        .map((s) => s.trim())
        .filter(Boolean))
        await q.query(statement);
      await q.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
