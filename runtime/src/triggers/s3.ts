import { createHash } from "node:crypto";
import * as aws4 from "aws4";

/** An S3-compatible endpoint and the keys to sign with (the AWS SDKs' environment variables). */
export interface S3Access {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3Object {
  readonly key: string;
  readonly etag: string;
  readonly lastModified: string;
}

const tag = (xml: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, "g"))].map((m) => m[1] as string);
const unescapeXml = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/** ListObjectsV2 (path-style, SigV4-signed), every page. */
export async function listObjects(access: S3Access, bucket: string, prefix: string): Promise<S3Object[]> {
  const base = new URL(access.endpoint);
  const out: S3Object[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({
      "list-type": "2",
      prefix,
      ...(token ? { "continuation-token": token } : {}),
    });
    const pathQ = `${base.pathname.replace(/\/$/, "")}/${encodeURIComponent(bucket)}?${query.toString().replace(/\+/g, "%20")}`;
    const signed = aws4.sign(
      {
        host: base.host,
        path: pathQ,
        method: "GET",
        service: "s3",
        region: access.region,
        protocol: base.protocol,
      },
      {
        accessKeyId: access.accessKeyId,
        secretAccessKey: access.secretAccessKey,
        ...(access.sessionToken ? { sessionToken: access.sessionToken } : {}),
      },
    );
    const res = await fetch(`${base.protocol}//${base.host}${pathQ}`, {
      headers: signed.headers as Record<string, string>,
      signal: AbortSignal.timeout(15_000),
    });
    const xml = await res.text();
    if (!res.ok)
      throw new Error(
        `ListObjectsV2 s3://${bucket}/${prefix}: ${res.status} ${tag(xml, "Code")[0] ?? ""} ${tag(xml, "Message")[0] ?? xml.slice(0, 200)}`,
      );
    for (const c of tag(xml, "Contents"))
      out.push({
        key: unescapeXml(tag(c, "Key")[0] ?? ""),
        etag: unescapeXml(tag(c, "ETag")[0] ?? ""),
        lastModified: tag(c, "LastModified")[0] ?? "",
      });
    token = tag(xml, "IsTruncated")[0] === "true" ? tag(xml, "NextContinuationToken")[0] : undefined;
  } while (token);
  return out;
}

/** One value for the whole listing: changes when any object under the prefix is added, removed or rewritten. */
export function listingFingerprint(objects: readonly S3Object[]): string {
  const lines = objects.map((o) => `${o.key}\t${o.etag}`).sort();
  return createHash("sha256").update(lines.join("\n")).digest("hex").slice(0, 32);
}
