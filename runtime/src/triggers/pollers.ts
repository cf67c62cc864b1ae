import { CronExpressionParser } from "cron-parser";
import type { Engine } from "../engine/engine";
import type { Pipeline, Trigger } from "../spec";
import type { Db } from "../store/db";
import { listingFingerprint, listObjects, type S3Access } from "./s3";

/** Where the polling triggers look: MLflow for new model versions, Feast's SQL registry for changed feature views. */
export interface PollerOptions {
  readonly db: Db;
  readonly engine: Engine;
  readonly mlflow?: { readonly trackingUri: string; readonly username?: string; readonly password?: string };
  /** A query function on Feast's registry database (its SQL registry), when feature-store triggers are used. */
  readonly feastRegistry?: { query<T>(sql: string, params?: unknown[]): Promise<T[]> };
  /** The object store for objectStore triggers (static keys; see S3Access). */
  readonly objectStore?: S3Access;
  readonly log?: (line: string) => void;
  readonly now?: () => Date;
}

type State = Record<string, unknown>;

async function loadState(db: Db, pipeline: string, index: number): Promise<State | undefined> {
  const [row] = await db.query<{ state: State }>(
    "SELECT state FROM trigger_state WHERE pipeline = $1 AND trigger_index = $2",
    [pipeline, index],
  );
  return row?.state;
}

async function saveState(db: Db, pipeline: string, index: number, state: State): Promise<void> {
  await db.query(
    "INSERT INTO trigger_state (pipeline, trigger_index, state) VALUES ($1, $2, $3) ON CONFLICT (pipeline, trigger_index) DO UPDATE SET state = $3",
    [pipeline, index, JSON.stringify(state)],
  );
}

/**
 * The triggers that poll: schedules, new MLflow model versions, changed Feast feature views. Each
 * remembers what it has seen in `trigger_state`, and each delivery has a dedupe key derived from
 * what it saw (the scheduled time, the model version, the registry timestamp), so a poll repeated
 * after a crash, or by a second replica, starts no second run. On first sight a trigger records the
 * present (the latest version, now) and fires only for what comes after.
 */
export class Pollers {
  readonly #lastPoll = new Map<string, number>();
  constructor(private readonly opts: PollerOptions) {}

  async pollAll(): Promise<void> {
    const now = this.opts.now?.() ?? new Date();
    const pipelines = await this.opts.db.query<{ name: string; spec: Pipeline }>(
      "SELECT name, spec FROM pipelines",
    );
    for (const p of pipelines)
      for (const [i, t] of p.spec.triggers.entries()) {
        const key = `${p.name}/${i}`;
        const every = "pollSeconds" in t ? t.pollSeconds * 1000 : 0;
        if (every > 0 && now.getTime() - (this.#lastPoll.get(key) ?? 0) < every) continue;
        this.#lastPoll.set(key, now.getTime());
        try {
          await this.#poll(p.name, i, t, now);
        } catch (err) {
          this.opts.log?.(
            `trigger ${p.name}[${i}] (${t.type}): ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }
  }

  async #poll(pipeline: string, index: number, t: Trigger, now: Date): Promise<void> {
    const { db, engine } = this.opts;
    const state = await loadState(db, pipeline, index);
    if (t.type === "schedule") {
      const last = state?.last ? new Date(String(state.last)) : undefined;
      if (last) {
        // Missed fire times (the runtime was down) collapse into the latest one.
        const due = CronExpressionParser.parse(t.cron, {
          currentDate: new Date(now.getTime() + 1),
          tz: t.timezone,
        })
          .prev()
          .toDate();
        if (due > last)
          await engine.trigger(pipeline, {
            dedupeKey: `schedule:${pipeline}:${index}:${due.toISOString()}`,
            source: "schedule",
            actor: "scheduler",
            detail: { scheduledFor: due.toISOString() },
          });
      }
      await saveState(db, pipeline, index, { last: now.toISOString() });
    } else if (t.type === "modelVersion") {
      const mlflow = this.opts.mlflow;
      if (!mlflow)
        throw new Error(
          "no MLflow tracking URI configured (MLFLOW_TRACKING_URI); the modelVersion trigger cannot poll.",
        );
      const url = `${mlflow.trackingUri.replace(/\/$/, "")}/api/2.0/mlflow/model-versions/search?filter=${encodeURIComponent(`name='${t.model.replaceAll("'", "''")}'`)}&max_results=1000`;
      const headers: Record<string, string> = {};
      if (mlflow.username)
        headers.authorization = `Basic ${Buffer.from(`${mlflow.username}:${mlflow.password ?? ""}`).toString("base64")}`;
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
      if (!res.ok)
        throw new Error(
          `MLflow answered ${res.status} for model-versions/search: ${(await res.text()).slice(0, 200)}`,
        );
      const versions = (
        ((await res.json()) as { model_versions?: { version: string }[] }).model_versions ?? []
      ).map((v) => Number(v.version));
      const seen = typeof state?.maxVersion === "number" ? state.maxVersion : undefined;
      const max = Math.max(0, ...versions);
      if (seen !== undefined)
        for (const v of versions.filter((x) => x > seen).sort((a, b) => a - b))
          await engine.trigger(pipeline, {
            dedupeKey: `mlflow:${pipeline}:${t.model}:${v}`,
            source: "modelVersion",
            actor: "mlflow-poller",
            detail: { model: t.model, version: String(v) },
          });
      await saveState(db, pipeline, index, { maxVersion: Math.max(max, seen ?? 0) });
    } else if (t.type === "featureStore") {
      const registry = this.opts.feastRegistry;
      if (!registry)
        throw new Error(
          "no Feast registry configured (FEAST_REGISTRY_URL); the featureStore trigger cannot poll.",
        );
      const rows = await registry.query<{ name: string; updated: string }>(
        "SELECT feature_view_name AS name, max(last_updated_timestamp)::text AS updated FROM feature_views WHERE cardinality($1::text[]) = 0 OR feature_view_name = ANY($1::text[]) GROUP BY feature_view_name",
        [[...t.featureViews]],
      );
      const seen = (state?.views ?? {}) as Record<string, string>;
      const changed = state ? rows.filter((r) => seen[r.name] !== r.updated) : [];
      for (const r of changed)
        await engine.trigger(pipeline, {
          dedupeKey: `feast:${pipeline}:${r.name}:${r.updated}`,
          source: "featureStore",
          actor: "feast-poller",
          detail: { featureView: r.name },
        });
      await saveState(db, pipeline, index, {
        views: Object.fromEntries(rows.map((r) => [r.name, r.updated])),
      });
    } else if (t.type === "objectStore") {
      const access = this.opts.objectStore;
      if (!access)
        throw new Error(
          "no object store configured (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY); the objectStore trigger cannot poll.",
        );
      const fp = listingFingerprint(await listObjects(access, t.bucket, t.prefix));
      const pending = state?.pending as { fingerprint: string; since: string } | undefined;
      if (!state) await saveState(db, pipeline, index, { fingerprint: fp });
      else if (fp === state.fingerprint) {
        if (pending) await saveState(db, pipeline, index, { fingerprint: fp });
      } else if (pending?.fingerprint === fp) {
        // Debounced: the listing has stayed as it is for debounceSeconds (an upload of many files is done).
        if (now.getTime() - new Date(pending.since).getTime() >= t.debounceSeconds * 1000) {
          await engine.trigger(pipeline, {
            dedupeKey: `s3:${pipeline}:${index}:${fp}`,
            source: "objectStore",
            actor: "s3-poller",
            detail: { bucket: t.bucket, prefix: t.prefix },
          });
          await saveState(db, pipeline, index, { fingerprint: fp });
        }
      } else
        await saveState(db, pipeline, index, {
          fingerprint: state.fingerprint,
          pending: { fingerprint: fp, since: now.toISOString() },
        });
    }
    // git and alert triggers come by webhook, manual ones by the API.
  }
}
