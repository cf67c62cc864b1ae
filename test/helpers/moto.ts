import { freePort } from "./postgres";
import { startContainer, venvBin, waitForHttp } from "./rendered";

export interface LocalS3 {
  readonly endpoint: string;
  /** Credentials the server accepts (moto takes any; these are the ones the test's Secret holds). */
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  stop(): Promise<void>;
}

/**
 * A real S3-compatible server on a loopback port: moto's server mode from PyPI (MinIO's community
 * edition is archived upstream and its module is not served by the Go proxy reachable here).
 */
export async function startS3(): Promise<LocalS3> {
  const port = await freePort();
  const proc = startContainer(
    { name: "moto", command: [`${venvBin("s3")}/moto_server`, "-H", "127.0.0.1", "-p", String(port)] },
    { secrets: new Map() },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitForHttp(`${endpoint}/`, proc, 60_000);
  return {
    endpoint,
    accessKeyId: "AKIAIOSFODNN7EXAMPLE",
    secretAccessKey: `s3-${Math.random().toString(36).slice(2)}`,
    stop: () => proc.stop(),
  };
}
