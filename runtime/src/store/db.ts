/**
 * The runtime's database, the same SQL on two engines: a Postgres server (`pg`, production and
 * several replicas) or PGlite (Postgres compiled to WebAssembly, in-process: the local default,
 * no server to run).
 */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
}

export interface Db extends Queryable {
  /** Runs `fn` in one transaction; rolls back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /**
   * Takes, or confirms it still holds, a session-level advisory lock (the leader lock). Returns
   * false when another process holds it or this one lost it with its connection. PGlite is
   * single-process: always true.
   */
  tryLeaderLock(key: number): Promise<boolean>;
  close(): Promise<void>;
  readonly kind: "postgres" | "pglite";
}

export async function openPglite(dataDir?: string): Promise<Db> {
  const { PGlite } = await import("@electric-sql/pglite");
  const pg = dataDir ? new PGlite(dataDir) : new PGlite();
  await pg.waitReady;
  // PGlite runs one query at a time; a queue keeps transactions from interleaving with other work.
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const q: Queryable = {
    async query<T>(sql: string, params: readonly unknown[] = []) {
      return (await pg.query<T>(sql, params as unknown[])).rows;
    },
  };
  return {
    kind: "pglite",
    query: (sql, params) => serial(() => q.query(sql, params)),
    tx: (fn) =>
      serial(() =>
        pg.transaction(async (t) =>
          fn({
            async query<T>(sql: string, params: readonly unknown[] = []) {
              return (await t.query<T>(sql, params as unknown[])).rows;
            },
          }),
        ),
      ),
    tryLeaderLock: async () => true,
    close: () => serial(() => pg.close()),
  };
}

export async function openPostgres(connectionString: string): Promise<Db> {
  const { Pool } = await import("pg");
  const pool = new Pool({ connectionString, max: 10 });
  // A pool error (a dropped idle connection) must not crash the process; queries report their own.
  pool.on("error", (err) => console.error(`runtime: postgres pool: ${err.message}`));
  let leader: import("pg").PoolClient | undefined;
  return {
    kind: "postgres",
    async query<T>(sql: string, params: readonly unknown[] = []) {
      return (await pool.query(sql, params as unknown[])).rows as T[];
    },
    async tx<T>(fn: (q: Queryable) => Promise<T>) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn({
          async query<R>(sql: string, params: readonly unknown[] = []) {
            return (await client.query(sql, params as unknown[])).rows as R[];
          },
        });
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async tryLeaderLock(key: number) {
      if (leader) {
        // Still ours? A dropped connection loses the lock: then stand down and try again.
        try {
          const [held] = (
            await leader.query(
              "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND pid = pg_backend_pid() AND granted) AS ok",
              [key],
            )
          ).rows as { ok: boolean }[];
          if (held?.ok) return true;
        } catch {
          // the connection is gone
        }
        leader.release(true);
        leader = undefined;
      }
      const client = await pool.connect();
      const [row] = (await client.query("SELECT pg_try_advisory_lock($1) AS ok", [key])).rows as {
        ok: boolean;
      }[];
      if (row?.ok) {
        // A checked-out client's errors are not the pool's: without a handler a dropped leader
        // connection would crash the process. The next pass notices and stands down.
        client.on("error", (err) => console.error(`runtime: leader connection: ${err.message}`));
        leader = client;
        return true;
      }
      client.release();
      return false;
    },
    async close() {
      leader?.release();
      await pool.end();
    },
  };
}
