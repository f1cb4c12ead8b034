// Writes model artifacts the way other tools lay them out (modctl's cnai form, KitOps ModelKits,
// Docker Model Runner), with plain distribution-spec requests from undici — never ferry's own
// writer — so that `ferry model pull` is tested against bytes it did not produce.
import { createHash } from 'node:crypto';
import { request } from 'undici';

export interface Blob {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** POST + PUT ?digest= (a monolithic upload), then the descriptor. */
export async function uploadBlob(
  registryUrl: string,
  repository: string,
  bytes: Buffer,
  mediaType: string,
  annotations?: Record<string, string>,
): Promise<Blob> {
  const digest = sha256(bytes);
  const start = await request(`${registryUrl}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  await start.body.dump();
  if (start.statusCode !== 202) throw new Error(`upload start: ${start.statusCode}`);
  const location = new URL(String(start.headers.location), registryUrl);
  location.searchParams.set('digest', digest);
  const put = await request(location, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
  });
  await put.body.dump();
  if (put.statusCode !== 201) throw new Error(`upload: ${put.statusCode}`);
  return { mediaType, digest, size: bytes.byteLength, ...(annotations ? { annotations } : {}) };
}

/** PUTs an image manifest by tag; returns its digest. */
export async function putManifest(
  registryUrl: string,
  repository: string,
  tag: string,
  manifest: Record<string, unknown>,
): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(manifest));
  const response = await request(`${registryUrl}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  const text = await response.body.text();
  if (response.statusCode !== 201) throw new Error(`manifest: ${response.statusCode} ${text}`);
  return sha256(bytes);
}

/** GETs a manifest or blob as JSON. */
export async function getJson(url: string): Promise<Record<string, unknown>> {
  const response = await request(url, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (response.statusCode !== 200) throw new Error(`GET ${url}: ${response.statusCode}`);
  return (await response.body.json()) as Record<string, unknown>;
}
