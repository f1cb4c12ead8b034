/**
 * Copies a graph of content (an index, its manifests, their configs and layers, and optionally
 * the referrers of each) from one target to another: children before parents, so that a
 * manifest never appears before its blobs; what the destination has is skipped; blobs within one
 * registry are mounted instead of sent again.
 */
import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FerryError, selectPlatform, type Descriptor, type Platform } from '@ferry/oci';
import { fetchManifest, isManifest, successors } from './content.js';
import { limit } from './limit.js';
import { ArtifactErrorCode } from './errors.js';
import { canMount } from './capabilities.js';
import type { Fetcher, Named, ReadOnlyGraphTarget, Storage, Tagger } from './target.js';

/**
 * What a copy writes to: content, and tags on the root once the graph is there. A destination
 * that can mount (a registry) gets blobs of the same registry mounted instead of sent.
 */
export type CopyDestination = Storage & Tagger;

export type CopyEvent =
  | { type: 'exists'; descriptor: Descriptor }
  | { type: 'mounted'; descriptor: Descriptor }
  | { type: 'start'; descriptor: Descriptor }
  | { type: 'progress'; descriptor: Descriptor; bytes: number }
  | { type: 'copied'; descriptor: Descriptor };

export interface CopyOptions {
  /** Blobs and manifests in flight at once. Default 3, as ORAS. */
  concurrency?: number | undefined;
  /** Copy the referrers of every manifest copied, recursively (`cp -r`). */
  referrers?: boolean | undefined;
  /** From an index, copy only the manifest for this platform. */
  platform?: Platform | undefined;
  /** Tags to point at the copied root in the destination. */
  tags?: string[] | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: CopyEvent) => void) | undefined;
}

/** Copies what `reference` names in `source` to `destination`; resolves to the copied root. */
export async function copy(
  source: ReadOnlyGraphTarget,
  destination: CopyDestination,
  reference: string,
  options: CopyOptions = {},
): Promise<Descriptor> {
  let root = await source.resolve(reference, { signal: options.signal });
  if (options.platform)
    root = await selectFromIndex(source, root, options.platform, options.signal);
  await copyGraph(source, destination, root, options);
  for (const tag of options.tags ?? [])
    await destination.tag(root, tag, { signal: options.signal });
  return root;
}

/** Copies the graph under `root` (already resolved) and, when asked, its referrers. */
export async function copyGraph(
  source: ReadOnlyGraphTarget,
  destination: CopyDestination,
  root: Descriptor,
  options: CopyOptions = {},
): Promise<void> {
  const run = limit(options.concurrency ?? 3);
  const visits = new Map<string, Promise<void>>();
  const emit = options.onEvent ?? (() => {});
  const signal = options.signal;

  const visit = (node: Descriptor): Promise<void> => {
    let pending = visits.get(node.digest);
    if (!pending) {
      pending = copyNode(node);
      visits.set(node.digest, pending);
    }
    return pending;
  };

  const copyNode = async (node: Descriptor): Promise<void> => {
    signal?.throwIfAborted();
    if (await run(() => destination.exists(node, { signal }))) {
      emit({ type: 'exists', descriptor: node });
      // A registry (and a layout written children-first) holds a manifest only with its blobs.
      if (options.referrers && isManifest(node)) await copyReferrers(node);
      return;
    }
    if (!isManifest(node)) {
      await run(() => transferBlob(node));
      return;
    }
    const fetched = await run(() => fetchManifest(source, node, { signal }));
    await Promise.all(successors(fetched.parsed).map(visit));
    await run(async () => {
      emit({ type: 'start', descriptor: node });
      await destination.push(node, fetched.bytes, { signal });
      emit({ type: 'copied', descriptor: node });
    });
    if (options.referrers) await copyReferrers(node);
  };

  const transferBlob = async (node: Descriptor): Promise<void> => {
    if (canMount(destination) && (await destination.mount(node, source, { signal }))) {
      emit({ type: 'mounted', descriptor: node });
      return;
    }
    emit({ type: 'start', descriptor: node });
    const onProgress = (bytes: number) => emit({ type: 'progress', descriptor: node, bytes });
    await destination.push(node, () => streamFrom(source, node, signal), { signal, onProgress });
    emit({ type: 'copied', descriptor: node });
  };

  const copyReferrers = async (node: Descriptor): Promise<void> => {
    const referrers = await run(() => source.referrers(node, { signal }));
    await Promise.all(referrers.map(visit));
  };

  await visit(root);
}

/** A stream that is returned at once and fed by the source's (asynchronous) fetch. */
function streamFrom(source: Fetcher, descriptor: Descriptor, signal?: AbortSignal): PassThrough {
  const through = new PassThrough({ highWaterMark: 1024 * 1024 });
  source
    .fetch(descriptor, { signal })
    .then((stream) => pipeline(stream, through))
    .catch((error: unknown) => through.destroy(error as Error));
  return through;
}

/** The manifest for `platform` in an index; a plain manifest is returned as it is. */
export async function selectFromIndex(
  source: Fetcher & Named,
  root: Descriptor,
  platform: Platform,
  signal?: AbortSignal,
): Promise<Descriptor> {
  if (!isManifest(root)) return root;
  const { parsed } = await fetchManifest(source, root, { signal });
  if (parsed.kind !== 'index') return root;
  const entries = parsed.index.manifests;
  const chosen = selectPlatform(
    platform,
    entries.map((entry) => entry.platform),
  );
  const entry = entries[chosen];
  if (!entry) {
    const offered = entries
      .map((e) =>
        e.platform
          ? `${e.platform.os}/${e.platform.architecture}${e.platform.variant ? `/${e.platform.variant}` : ''}`
          : 'unknown',
      )
      .join(', ');
    throw new FerryError(
      ArtifactErrorCode.PlatformNotFound,
      `no manifest for ${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''} in ${source.name}@${root.digest} (it offers: ${offered || 'nothing'})`,
    );
  }
  return entry;
}
