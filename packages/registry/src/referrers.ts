/**
 * Referrers: the manifests whose `subject` is a given manifest (signatures, SBOMs, attachments).
 * Registries with the OCI 1.1 API answer `GET /v2/<name>/referrers/<digest>`; the others
 * (registry:2 among them) answer 404, and clients keep an index under the tag `sha256-<hex>`
 * instead — the "referrers tag schema", which this module both reads and maintains.
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-referrers
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#referrers-tag-schema
 */
import {
  FerryError,
  isNotFound,
  MANIFEST_SIZE_LIMIT,
  MediaType,
  parseDigest,
  parseManifest,
  type Descriptor,
  type ImageIndex,
  type ParsedManifest,
} from '@ferry/oci';
import { readVerified } from './blobs.js';
import { redactUrl, RegistryErrorCode } from './errors.js';
import type { ManifestStore } from './manifests.js';
import { discard, responseError, type Transport } from './transport.js';

export interface ReferrersContext {
  transport: Transport;
  repositoryUrl: URL;
  name: string;
  manifests: ManifestStore;
  /** true: the referrers API only (a 404 is an error); false: the tag schema only; unset: both. */
  referrersApi?: boolean | undefined;
}

/** How to ask one registry repository for a subject's referrers (API or tag fallback). */
export interface ReferrersRequestOptions {
  artifactType?: string | undefined;
  /** Refuse to follow more pages than this (default MAX_REFERRERS_PAGES). */
  maxPages?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Pages of one subject's referrers followed at most; past that the registry is refused. */
export const MAX_REFERRERS_PAGES = 1000;

/** The fallback tag for a subject: `<alg>-<hex>`, the hex cut to 64 characters (tag limit). */
export function referrersTag(subjectDigest: string): string {
  const { algorithm, hex } = parseDigest(subjectDigest);
  return `${algorithm}-${hex.slice(0, 64)}`;
}

export async function listReferrers(
  context: ReferrersContext,
  subjectDigest: string,
  options: ReferrersRequestOptions = {},
): Promise<Descriptor[]> {
  parseDigest(subjectDigest);
  if (context.referrersApi === false) return readFallback(context, subjectDigest, options);
  let url: URL | undefined = new URL(`referrers/${subjectDigest}`, context.repositoryUrl);
  if (options.artifactType) url.searchParams.set('artifactType', options.artifactType);
  const found: Descriptor[] = [];
  const maxPages = options.maxPages ?? MAX_REFERRERS_PAGES;
  for (let page = 0; url; page++) {
    if (page >= maxPages) {
      // Stopping quietly would show a partial list as if it were all of it.
      throw new FerryError(
        RegistryErrorCode.Protocol,
        `referrers of ${subjectDigest}: the registry's list goes on past ${maxPages} pages (${found.length} referrers so far); stopped, as it may never end`,
      );
    }
    const response = await context.transport.send({
      method: 'GET',
      url,
      headers: { accept: MediaType.OciIndex },
      scopes: [`repository:${context.name}:pull`],
      signal: options.signal,
    });
    if (response.status === 404 && page === 0) {
      await discard(response);
      if (context.referrersApi !== true) return readFallback(context, subjectDigest, options);
      throw new FerryError(
        RegistryErrorCode.Protocol,
        `referrers of ${subjectDigest}: the registry has no referrers API (GET ${redactUrl(response.url)}: 404), and only the API was asked for; on such registries referrers are kept under the tag ${referrersTag(subjectDigest)} (the referrers tag schema)`,
      );
    }
    if (response.status !== 200) throw await responseError(response, 'GET');
    const filtered = String(response.headers['oci-filters-applied'] ?? '')
      .split(',')
      .map((s) => s.trim());
    const { bytes } = await readVerified(response, MANIFEST_SIZE_LIMIT);
    const parsed = parseManifest(bytes, MediaType.OciIndex);
    if (parsed.kind !== 'index') return found;
    let manifests = parsed.index.manifests;
    if (options.artifactType && !filtered.includes('artifactType')) {
      manifests = manifests.filter((m) => m.artifactType === options.artifactType);
    }
    for (const manifest of manifests) found.push(manifest);
    url = nextLink(response.headers.link, url);
  }
  return found;
}

async function readFallback(
  context: ReferrersContext,
  subjectDigest: string,
  options: ReferrersRequestOptions,
): Promise<Descriptor[]> {
  const index = await fetchFallbackIndex(context, subjectDigest, options.signal);
  const manifests = index?.manifests ?? [];
  return options.artifactType
    ? manifests.filter((m) => m.artifactType === options.artifactType)
    : manifests;
}

async function fetchFallbackIndex(
  context: ReferrersContext,
  subjectDigest: string,
  signal?: AbortSignal,
): Promise<ImageIndex | undefined> {
  try {
    const { parsed } = await context.manifests.fetch(referrersTag(subjectDigest), signal);
    return parsed.kind === 'index' ? parsed.index : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The descriptor a referrers index lists for a manifest: its artifact type and annotations too. */
export function referrerDescriptor(descriptor: Descriptor, parsed: ParsedManifest): Descriptor {
  const content = parsed.kind === 'manifest' ? parsed.manifest : parsed.index;
  const artifactType =
    content.artifactType ??
    (parsed.kind === 'manifest' ? parsed.manifest.config.mediaType : undefined);
  return {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(artifactType ? { artifactType } : {}),
    ...(content.annotations ? { annotations: content.annotations } : {}),
  };
}

/**
 * Adds (or removes) a referrer in the fallback index of its subject. Two clients attaching to one
 * subject at the same moment can lose one entry: the tag schema has no compare-and-swap.
 */
export async function updateFallbackIndex(
  context: ReferrersContext,
  change: 'add' | 'remove',
  descriptor: Descriptor,
  parsed: ParsedManifest,
  signal?: AbortSignal,
): Promise<void> {
  const content = parsed.kind === 'manifest' ? parsed.manifest : parsed.index;
  if (!content.subject) return;
  const existing = await fetchFallbackIndex(context, content.subject.digest, signal);
  const others = (existing?.manifests ?? []).filter((m) => m.digest !== descriptor.digest);
  if (change === 'remove' && others.length === (existing?.manifests.length ?? 0)) return;
  if (change === 'add' && existing?.manifests.some((m) => m.digest === descriptor.digest)) return;
  const manifests = change === 'add' ? [...others, referrerDescriptor(descriptor, parsed)] : others;
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.OciIndex, manifests };
  await context.manifests.push(
    referrersTag(content.subject.digest),
    Buffer.from(JSON.stringify(index)),
    MediaType.OciIndex,
    signal,
  );
}

/** The `rel="next"` target of a `Link` header, resolved against the request URL. */
export function nextLink(header: string | string[] | undefined, base: URL): URL | undefined {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  for (const value of values) {
    for (const part of value.split(/,(?=\s*<)/)) {
      const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
      if (match && /(?:^|;)\s*rel\s*=\s*"?next"?\s*(?:;|$)/i.test(match[2] ?? '')) {
        return new URL(match[1] ?? '', base);
      }
    }
  }
  return undefined;
}
