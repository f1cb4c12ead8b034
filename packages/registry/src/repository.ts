import type { Descriptor, ParsedManifest } from '@ferry/oci';
import { BlobStore } from './blobs.js';
import { ManifestStore } from './manifests.js';
import {
  listReferrers,
  updateFallbackIndex,
  type ReferrersContext,
  type ReferrersRequestOptions,
} from './referrers.js';
import { listPaged, type PageOptions } from './paging.js';
import type { Transport } from './transport.js';

export interface RepositoryContext {
  transport: Transport;
  /** `https://host/` */
  baseUrl: URL;
  chunkSize: number;
  monolithicThreshold: number;
  /** See RegistryOptions.referrersApi. */
  referrersApi?: boolean | undefined;
}

/** One repository of a registry: its blobs, manifests, tags and referrers. */
export class Repository {
  readonly name: string;
  readonly blobs: BlobStore;
  readonly manifests: ManifestStore;
  readonly #context: RepositoryContext;
  readonly #repositoryUrl: URL;
  readonly #referrers: ReferrersContext;
  readonly #fallbackUpdates = new Map<string, Promise<void>>();

  constructor(context: RepositoryContext, name: string) {
    this.name = name;
    this.#context = context;
    this.#repositoryUrl = new URL(`v2/${name}/`, context.baseUrl);
    const shared = {
      transport: context.transport,
      repositoryUrl: this.#repositoryUrl,
      name,
      referrersApi: context.referrersApi,
    };
    this.blobs = new BlobStore({
      ...shared,
      chunkSize: context.chunkSize,
      monolithicThreshold: context.monolithicThreshold,
    });
    this.manifests = new ManifestStore({
      ...shared,
      onSubjectPushed: (descriptor, parsed, signal) =>
        this.#serialised(parsed, () =>
          updateFallbackIndex(this.#referrers, 'add', descriptor, parsed, signal),
        ),
      onSubjectDeleted: (descriptor, parsed, signal) =>
        this.#serialised(parsed, () =>
          updateFallbackIndex(this.#referrers, 'remove', descriptor, parsed, signal),
        ),
    });
    this.#referrers = { ...shared, manifests: this.manifests };
  }

  /**
   * Updates of one subject's fallback index take turns: each is a read-modify-write of one tag,
   * and siblings pushed concurrently (copy -r) would otherwise overwrite each other's entries.
   */
  #serialised(parsed: ParsedManifest, update: () => Promise<void>): Promise<void> {
    const content = parsed.kind === 'manifest' ? parsed.manifest : parsed.index;
    const key = content.subject?.digest ?? '';
    const previous = this.#fallbackUpdates.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(update);
    const settled = next.catch(() => {});
    this.#fallbackUpdates.set(key, settled);
    void settled.then(() => {
      if (this.#fallbackUpdates.get(key) === settled) this.#fallbackUpdates.delete(key);
    });
    return next;
  }

  /** All tags, following `Link` pagination; `n` sets the page size, `last` where to start. */
  async tags(options: PageOptions = {}): Promise<string[]> {
    return listPaged(
      this.#context.transport,
      new URL('tags/list', this.#repositoryUrl),
      [`repository:${this.name}:pull`],
      'tags',
      options,
    );
  }

  /**
   * The manifests that refer to `subjectDigest`, optionally of one artifact type: from the
   * referrers API, or from the `sha256-<hex>` tag on registries without it (registry:2).
   */
  async referrers(subjectDigest: string, options?: ReferrersRequestOptions): Promise<Descriptor[]> {
    return listReferrers(this.#referrers, subjectDigest, options);
  }
}
