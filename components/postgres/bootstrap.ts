import { type PostgresConsumer, sqlName } from "./config";

/** Environment variable through which the bootstrap Job receives a consumer's password. */
export function passwordEnv(consumer: string): string {
  return `MLOPS_PASSWORD_${sqlName(consumer).toUpperCase()}`;
}

/**
 * The psql script the bootstrap Job runs (as the admin role): for each consumer a LOGIN role whose
 * password is (re)set from the environment, a database it owns, and CONNECT revoked from PUBLIC so
 * consumers cannot reach each other's databases. Idempotent: run it any number of times.
 * Passwords never appear in the script: psql reads them with `\getenv` and quotes them with `%L`.
 */
export function bootstrapSql(consumers: readonly PostgresConsumer[]): string {
  const lines = ["\\set ON_ERROR_STOP on", "SET client_min_messages = warning;"];
  for (const c of consumers) {
    const id = sqlName(c.name);
    lines.push(
      "",
      `-- ${c.name}`,
      `\\getenv pw_${id} ${passwordEnv(c.name)}`,
      `\\if :{?pw_${id}}`,
      `  SELECT :'pw_${id}' = '' AS empty_${id} \\gset`,
      "\\else",
      `  \\set empty_${id} true`,
      "\\endif",
      `\\if :empty_${id}`,
      `  DO $$ BEGIN RAISE EXCEPTION 'bootstrap: ${passwordEnv(c.name)} is not set or empty'; END $$;`,
      "\\endif",
      `SELECT format('CREATE ROLE %I LOGIN', '${id}') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${id}') \\gexec`,
      `SELECT format('ALTER ROLE %I WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', '${id}', :'pw_${id}') \\gexec`,
      `SELECT format('GRANT %I TO CURRENT_USER', '${id}') WHERE NOT pg_has_role(CURRENT_USER, '${id}', 'MEMBER') \\gexec`,
      `SELECT format('CREATE DATABASE %I OWNER %I', '${id}', '${id}') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${id}') \\gexec`,
      `SELECT format('ALTER DATABASE %I OWNER TO %I', '${id}', '${id}') \\gexec`,
      `SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', '${id}') \\gexec`,
      `\\echo 'bootstrap: ${id} ready'`,
    );
  }
  return `${lines.join("\n")}\n`;
}
