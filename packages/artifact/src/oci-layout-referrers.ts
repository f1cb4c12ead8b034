/**
 * Referrers in an OCI image layout, which has no referrers index of its own: every blob that
 * could be a manifest is read and checked for a `subject`. Not only the manifests listed in
 * index.json, because referrers (signatures, SBOMs) are seldom tagged.
 */
import { open, readdir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DigestAlgorithms,
  MANIFEST_SIZE_LIMIT,
  computeDigest,
  isDigest,
  parseManifest,
  type Descriptor,
  type Digest,
  type DigestAlgorithm,
} from '@ferry/oci';
import { isErrno } from './oci-layout-fs.js';
import type { ReferrersOptions } from './target.js';

/** Manifests and indexes under `blobsDir` whose subject is `subject`, sorted by digest. */
export async function scanReferrers(
  blobsDir: string,
  subject: string,
  options: ReferrersOptions = {},
): Promise<Descriptor[]> {
  const found: Descriptor[] = [];
  for (const algorithm of Object.keys(DigestAlgorithms) as DigestAlgorithm[]) {
    const dir = join(blobsDir, algorithm);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) continue;
      throw error;
    }
    for (const hex of names) {
      options.signal?.throwIfAborted();
      const digest = `${algorithm}:${hex}`;
      if (!isDigest(digest)) continue; // temp files and strays
      const referrer = await readReferrer(join(dir, hex), digest, subject);
      if (!referrer) continue;
      if (options.artifactType === undefined || referrer.artifactType === options.artifactType) {
        found.push(referrer);
      }
    }
  }
  return found.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
}

/** The referrer descriptor for one blob file, or undefined when it is no manifest of `subject`. */
async function readReferrer(
  path: string,
  digest: Digest,
  subject: string,
): Promise<Descriptor | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined; // deleted while scanning
    throw error;
  }
  let bytes: Buffer;
  try {
    const { size } = await handle.stat();
    if (size > MANIFEST_SIZE_LIMIT) return undefined;
    // Most blobs are layers: one small read tells JSON from tar or gzip without loading them.
    const head = Buffer.alloc(Math.min(size, 64));
    await handle.read(head, 0, head.byteLength, 0);
    if (!/^\s*\{/.test(head.toString('latin1'))) return undefined;
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  // A referrer's JSON holds the subject digest verbatim; most candidates stop here, unparsed.
  if (bytes.indexOf(subject) < 0) return undefined;
  // A corrupt file must not be reported under the digest it no longer has.
  if (computeDigest(bytes, digest.startsWith('sha512:') ? 'sha512' : 'sha256') !== digest) {
    return undefined;
  }
  let parsed;
  try {
    parsed = parseManifest(bytes);
  } catch {
    return undefined; // JSON, but not a manifest (a config, an SBOM blob…)
  }
  const document = parsed.kind === 'manifest' ? parsed.manifest : parsed.index;
  if (document.subject?.digest !== subject) return undefined;
  // The image spec's rule for the referrers API: artifactType, else the config's media type.
  const artifactType =
    document.artifactType ??
    (parsed.kind === 'manifest' ? parsed.manifest.config.mediaType : undefined);
  return {
    mediaType: parsed.mediaType,
    digest,
    size: bytes.byteLength,
    ...(artifactType !== undefined ? { artifactType } : {}),
    ...(document.annotations ? { annotations: document.annotations } : {}),
  };
}
