import { mkdtempSync, readFileSync, statSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { offlinePulumiEnv } from "../../../scripts/lib/pulumi-env";

describe("offline Pulumi environment", () => {
  const saved = { ...process.env };
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "pulumi-env-"));
    // Any existing file stands in for the CLI: this tier never runs it.
    process.env.PULUMI_CLI = process.execPath;
    delete process.env.PULUMI_CONFIG_PASSPHRASE;
    delete process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it("uses a file backend, a private PULUMI_HOME, no update check and no plugin downloads", () => {
    const { env, backendUrl, pulumiHome } = offlinePulumiEnv(dir);
    expect(backendUrl).toBe(`file://${path.join(dir, "backend")}`);
    expect(env.PULUMI_BACKEND_URL).toBe(backendUrl);
    expect(env.PULUMI_HOME).toBe(pulumiHome);
    expect(pulumiHome.startsWith(dir)).toBe(true);
    expect(env.PULUMI_SKIP_UPDATE_CHECK).toBe("true");
    expect(env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION).toBe("true");
    expect(env.PULUMI_IGNORE_AMBIENT_PLUGINS).toBeUndefined();
  });

  it("never puts a passphrase in the environment: a generated 0600 file, kept across calls", () => {
    const first = offlinePulumiEnv(dir).env;
    expect(first.PULUMI_CONFIG_PASSPHRASE).toBeUndefined();
    const file = first.PULUMI_CONFIG_PASSPHRASE_FILE as string;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const passphrase = readFileSync(file, "utf8");
    expect(passphrase).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(offlinePulumiEnv(dir).env.PULUMI_CONFIG_PASSPHRASE_FILE).toBe(file);
    expect(readFileSync(file, "utf8")).toBe(passphrase);
  });

  it("keeps the caller's own passphrase setting", () => {
    process.env.PULUMI_CONFIG_PASSPHRASE_FILE = "/somewhere/else";
    expect(offlinePulumiEnv(dir).env.PULUMI_CONFIG_PASSPHRASE_FILE).toBeUndefined();
  });

  it("names the fix when there is no CLI", () => {
    process.env.PULUMI_CLI = path.join(dir, "missing-pulumi");
    expect(() => offlinePulumiEnv(dir)).toThrow(/PULUMI_CLI=.*missing-pulumi does not exist/);
  });
});
