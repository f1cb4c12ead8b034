import {
  computeDigest,
  DigestMismatchError,
  isDigest,
  isNotFound,
  MANIFEST_SIZE_LIMIT,
  ManifestMediaTypes,
  ManifestTooLargeError,
  parseManifest,
  type Descriptor,
  type ParsedManifest,
} from '@ferry/oci';
import { readVerified } from './blobs.js';
import { discard, responseError, type Transport } from './transport.js';

export interface ManifestStoreContext {
  transport: Transport;
  repositoryUrl: URL;
  name: string;
  /** true: the registry indexes referrers itself; false: keep the tag schema always; unset: ask. */
  referrersApi?: boolean | undefined;
  /** Called after a manifest with a `subject` is pushed to a registry that did not index it. */
  onSubjectPushed?: (
    descriptor: Descriptor,
    parsed: ParsedManifest,
    signal?: AbortSignal,
  ) => Promise<void>;
  /** Called before a manifest with a `subject` is deleted, to drop it from the fallback index. */
  onSubjectDeleted?: (
    descriptor: Descriptor,
    parsed: ParsedManifest,
    signal?: AbortSignal,
  ) => Promise<void>;
}

/**
 * A registry's answer to `GET /v2/<name>/manifests/<reference>`, checked. (@ferry/artifact's
 * `FetchedManifest` is the same shape from any target, verified against a known descriptor.)
 */
export interface ManifestResponse {
  /** Digest and size computed from the bytes received, media type from the document. */
  descriptor: Descriptor;
  /** The bytes exactly as stored: their digest is the manifest's identity. */
  bytes: Buffer;
  parsed: ParsedManifest;
}

const ACCEPT = ManifestMediaTypes.join(', ');

/** `/v2/<name>/manifests/<reference>`, where reference is a tag or a digest. */
export class ManifestStore {
  readonly #context: ManifestStoreContext;

  constructor(context: ManifestStoreContext) {
    this.#context = context;
  }

  #url(reference: string): URL {
    return new URL(`manifests/${reference}`, this.#context.repositoryUrl);
  }

  /**
   * `HEAD`: the descriptor a tag or digest points at, without downloading the manifest (unless the
   * registry leaves out `Docker-Content-Digest`, in which case it is fetched and hashed).
   */
  async resolve(reference: string, signal?: AbortSignal): Promise<Descriptor> {
    const response = await this.#context.transport.send({
      method: 'HEAD',
      url: this.#url(reference),
      headers: { accept: ACCEPT },
      scopes: [`repository:${this.#context.name}:pull`],
      signal,
    });
    await discard(response);
    if (response.status !== 200) throw await responseError(response, 'HEAD');
    const digest = response.headers['docker-content-digest'];
    const size = Number(response.headers['content-length']);
    const mediaType = contentType(response.headers['content-type']);
    if (typeof digest === 'string' && isDigest(digest) && Number.isSafeInteger(size) && mediaType) {
      if (isDigest(reference) && digest !== reference) {
        throw new DigestMismatchError(
          reference,
          digest,
          `manifest ${this.#context.name}@${reference}`,
        );
      }
      if (size > MANIFEST_SIZE_LIMIT) throw new ManifestTooLargeError(size, MANIFEST_SIZE_LIMIT);
      return { mediaType, digest, size };
    }
    return (await this.fetch(reference, signal)).descriptor;
  }

  /** `GET`: the manifest's bytes, verified (by digest when asked by digest) and validated. */
  async fetch(reference: string, signal?: AbortSignal): Promise<ManifestResponse> {
    const response = await this.#context.transport.send({
      method: 'GET',
      url: this.#url(reference),
      headers: { accept: ACCEPT },
      scopes: [`repository:${this.#context.name}:pull`],
      signal,
    });
    if (response.status !== 200) throw await responseError(response, 'GET');
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > MANIFEST_SIZE_LIMIT) {
      await discard(response);
      throw new ManifestTooLargeError(declared, MANIFEST_SIZE_LIMIT);
    }
    const expected = isDigest(reference) ? reference : undefined;
    const { bytes, digest } = await readVerified(response, MANIFEST_SIZE_LIMIT, expected);
    const subject = `manifest ${this.#context.name}@${reference}`;
    if (expected && digest !== expected) throw new DigestMismatchError(expected, digest, subject);
    const header = response.headers['docker-content-digest'];
    // Compared only when the registry hashed with the same algorithm as we did.
    const sameAlgorithm =
      typeof header === 'string' && header.split(':')[0] === digest.split(':')[0];
    if (sameAlgorithm && header !== digest) {
      throw new DigestMismatchError(String(header), digest, subject);
    }
    const parsed = parseManifest(bytes, contentType(response.headers['content-type']));
    return {
      descriptor: { mediaType: parsed.mediaType, digest, size: bytes.byteLength },
      bytes,
      parsed,
    };
  }

  /**
   * `PUT` by tag or digest. The bytes are sent exactly as given; a manifest that refers to a
   * `subject` is added to the referrers fallback index when the registry has no referrers API.
   */
  async push(
    reference: string,
    bytes: Uint8Array,
    mediaType?: string,
    signal?: AbortSignal,
  ): Promise<Descriptor> {
    const parsed = parseManifest(bytes, mediaType);
    const type = mediaType ?? parsed.mediaType;
    const digest = computeDigest(bytes);
    if (isDigest(reference) && reference !== digest) {
      throw new DigestMismatchError(reference, digest, `manifest pushed as ${reference}`);
    }
    const response = await this.#context.transport.send({
      method: 'PUT',
      url: this.#url(reference),
      headers: { 'content-type': type, 'content-length': String(bytes.byteLength) },
      body: bytes,
      scopes: [`repository:${this.#context.name}:pull,push`],
      signal,
    });
    if (response.status !== 201) throw await responseError(response, 'PUT');
    await discard(response);
    const stored = response.headers['docker-content-digest'];
    if (typeof stored === 'string' && stored !== digest) {
      throw new DigestMismatchError(
        digest,
        stored,
        `manifest ${this.#context.name}:${reference} as stored`,
      );
    }
    const descriptor: Descriptor = { mediaType: type, digest, size: bytes.byteLength };
    const content = parsed.kind === 'manifest' ? parsed.manifest : parsed.index;
    // Unset, the registry's OCI-Subject header says whether it indexed the subject itself.
    const indexed = this.#context.referrersApi ?? response.headers['oci-subject'] !== undefined;
    if (content.subject && !indexed) {
      await this.#context.onSubjectPushed?.(descriptor, parsed, signal);
    }
    return descriptor;
  }

  /** `DELETE` by digest (a tag is resolved first: registries delete manifests, not tags). */
  async delete(reference: string, signal?: AbortSignal): Promise<Descriptor> {
    const fetched = await this.fetch(reference, signal);
    const content =
      fetched.parsed.kind === 'manifest' ? fetched.parsed.manifest : fetched.parsed.index;
    if (content.subject && this.#context.referrersApi !== true)
      await this.#context.onSubjectDeleted?.(fetched.descriptor, fetched.parsed, signal);
    const response = await this.#context.transport.send({
      method: 'DELETE',
      url: this.#url(fetched.descriptor.digest),
      scopes: [`repository:${this.#context.name}:delete`],
      signal,
    });
    if (response.status !== 202 && response.status !== 200)
      throw await responseError(response, 'DELETE');
    await discard(response);
    return fetched.descriptor;
  }

  /** Points `tag` at the manifest `reference` names, by pushing its bytes unchanged. */
  async tag(reference: string, tag: string, signal?: AbortSignal): Promise<Descriptor> {
    const { bytes, descriptor } = await this.fetch(reference, signal);
    return this.push(tag, bytes, descriptor.mediaType, signal);
  }

  /** True when the tag or digest exists. */
  async exists(reference: string, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.resolve(reference, signal);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}

function contentType(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  return value.split(';')[0]?.trim().toLowerCase() || undefined;
}
