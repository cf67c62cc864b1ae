import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Db } from "../store/db";

export type Role = "viewer" | "operator" | "approver" | "admin";
export const ROLES: readonly Role[] = ["viewer", "operator", "approver", "admin"];

/** What each role may do: viewers read; operators also apply, trigger and cancel; approvers also decide. */
export type Permission = "read" | "write" | "approve" | "admin";
const GRANTS: Readonly<Record<Role, readonly Permission[]>> = {
  viewer: ["read"],
  operator: ["read", "write"],
  approver: ["read", "approve"],
  admin: ["read", "write", "approve", "admin"],
};

export function allows(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/** Tokens are stored as SHA-256 hashes only; the plain token is shown once, at creation. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export async function createToken(db: Db, name: string, role: Role): Promise<string> {
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(name))
    throw new Error(`token name ${JSON.stringify(name)}: use lowercase letters, digits, '.', '_' or '-'.`);
  if (!ROLES.includes(role)) throw new Error(`role ${JSON.stringify(role)}: use one of ${ROLES.join(", ")}.`);
  const token = `mlops_${randomBytes(24).toString("base64url")}`;
  await db.query("INSERT INTO api_tokens (name, hash, role) VALUES ($1, $2, $3)", [
    name,
    hashToken(token),
    role,
  ]);
  return token;
}

/** Registers a token whose plain value the operator provides (e.g. from a Secret) under `name`. */
export async function ensureToken(db: Db, name: string, role: Role, token: string): Promise<void> {
  await db.query(
    "INSERT INTO api_tokens (name, hash, role) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET hash = $2, role = $3",
    [name, hashToken(token), role],
  );
}

export async function authenticate(
  db: Db,
  header: string | undefined,
): Promise<{ name: string; role: Role } | undefined> {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  if (!m) return undefined;
  const [row] = await db.query<{ name: string; role: Role }>(
    "SELECT name, role FROM api_tokens WHERE hash = $1",
    [hashToken(m[1] as string)],
  );
  return row;
}

/** Verifies a GitHub-style `X-Hub-Signature-256: sha256=<hex>` HMAC of the raw body, in constant time. */
export function verifyHmac(secret: string, body: Buffer, signature: string | undefined): boolean {
  const m = /^sha256=([0-9a-f]{64})$/i.exec(signature ?? "");
  if (!m) return false;
  const expected = createHmac("sha256", secret).update(body).digest();
  const given = Buffer.from(m[1] as string, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
