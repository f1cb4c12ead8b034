/**
 * `ferry bottle mirror`: bottle images copied to another registry with every digest kept, so that
 * Homebrew pointed at the mirror (HOMEBREW_ARTIFACT_DOMAIN) gets byte-identical bottles. What the
 * destination has is skipped: a second run copies nothing.
 *
 * Every image keeps the path brew asks ghcr.io for (`homebrew/core/<image>`, `<org>/<tap>/<image>`)
 * under the destination's prefix: HOMEBREW_ARTIFACT_DOMAIN replaces only `https://ghcr.io/`
 * (download_strategy.rb), so a dependency from another namespace must keep its own to be found.
 */
import { copy, copyGraph, type CopyEvent, type Target } from '@ferry/artifact';
import { computeDigest, FerryError, MediaType, type Descriptor } from '@ferry/oci';
import { HomebrewErrorCode } from './errors.js';
import { homebrewJsonBytes } from './json.js';
import { CORE_NAMESPACE, imageName, parseFormulaFullName } from './names.js';
import { fetchBottleIndex, resolveImageTag } from './resolve.js';
import { bottleEntries } from './select.js';
import { dependencyImages } from './tab.js';
import { sameBottleTag } from './tags.js';

export interface MirrorBottlesOptions {
  formulas: string[];
  /** Source namespace for formulae without a tap (default homebrew/core). */
  namespace?: string;
  /**
   * A path prefix in the destination registry (may be empty): each image goes to
   * `<prefix>/<its ghcr.io repository>`, e.g. `mirror/homebrew/core/sqlite`.
   */
  toPrefix: string;
  version?: string;
  /** Only these bottle tags (default all): the index is then rewritten to list just them. */
  tags?: string[];
  withDeps?: boolean;
  concurrency?: number;
  signal?: AbortSignal;
  openSource(repository: string): Target | Promise<Target>;
  openDestination(repository: string): Target | Promise<Target>;
  onEvent?(event: CopyEvent & { repository: string }): void;
}

export interface MirroredImage {
  repository: string;
  destination: string;
  imageTag: string;
  indexDigest: string;
  indexSize: number;
  bottleTags: string[];
  /** Blobs and manifests sent or mounted; 0 when the mirror was already complete. */
  transferred: number;
}

interface MirrorJob {
  /** Where to read it (the source's core namespace for homebrew/core formulae). */
  repository: string;
  /** Where brew looks for it on ghcr.io: `homebrew/core/qux`, `user/tap/foo`. */
  canonical: string;
  imageTag: string | undefined;
}

export async function mirrorBottles(options: MirrorBottlesOptions): Promise<MirroredImage[]> {
  const queue: MirrorJob[] = options.formulas.map((formula) => {
    const { namespace: tap, name } = parseFormulaFullName(formula);
    return { ...locate(tap, imageName(name), options), imageTag: options.version };
  });
  const seen = new Set<string>();
  const results: MirroredImage[] = [];
  for (let job = queue.shift(); job; job = queue.shift()) {
    const key = `${job.repository}:${job.imageTag ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const mirrored = await mirrorOne(job, options);
    results.push(mirrored.image);
    for (const dependency of mirrored.dependencies) queue.push(dependency);
  }
  return results;
}

function locate(
  namespace: string,
  image: string,
  options: MirrorBottlesOptions,
): Omit<MirrorJob, 'imageTag'> {
  const sourceCore = options.namespace ?? CORE_NAMESPACE;
  return {
    repository: `${namespace === CORE_NAMESPACE ? sourceCore : namespace}/${image}`,
    canonical: `${namespace}/${image}`,
  };
}

async function mirrorOne(
  job: MirrorJob,
  options: MirrorBottlesOptions,
): Promise<{ image: MirroredImage; dependencies: MirrorJob[] }> {
  const { signal } = options;
  const { repository, imageTag: version } = job;
  const source = await options.openSource(repository);
  const prefix = options.toPrefix.replace(/^\/+|\/+$/g, '');
  const destinationName = prefix ? `${prefix}/${job.canonical}` : job.canonical;
  const destination = await options.openDestination(destinationName);
  const imageTag = await resolveImageTag(source, version, signal);
  const bottleImage = await fetchBottleIndex(source, repository, imageTag, signal);
  const entries = bottleEntries(bottleImage.index);
  const wanted = options.tags?.length
    ? entries.filter((entry) => options.tags?.some((tag) => sameBottleTag(tag, entry.tag)))
    : entries;
  const missing = (options.tags ?? []).filter(
    (tag) => !entries.some((entry) => sameBottleTag(tag, entry.tag)),
  );
  if (missing.length) {
    throw new FerryError(
      HomebrewErrorCode.BottleNotFound,
      `${source.name}:${imageTag} has no ${missing.join(', ')} bottle (it has ${entries.map((e) => e.tag).join(', ')})`,
    );
  }
  let transferred = 0;
  const onEvent = (event: CopyEvent) => {
    if (event.type === 'copied' || event.type === 'mounted') transferred++;
    options.onEvent?.({ ...event, repository });
  };
  const copyOptions = { concurrency: options.concurrency, signal, onEvent };
  let indexDigest = bottleImage.indexManifest.descriptor.digest;
  let indexSize = bottleImage.indexManifest.descriptor.size;
  if (wanted.length === entries.length) {
    // The whole index, byte for byte: the mirror's tag names the same digest as the source's.
    await copy(source, destination, imageTag, { ...copyOptions, tags: [imageTag] });
  } else {
    for (const entry of wanted) await copyGraph(source, destination, entry.descriptor, copyOptions);
    const subset = { ...bottleImage.index, manifests: wanted.map((entry) => entry.descriptor) };
    const bytes = homebrewJsonBytes(subset);
    const descriptor: Descriptor = {
      mediaType: MediaType.OciIndex,
      digest: computeDigest(bytes),
      size: bytes.byteLength,
    };
    indexDigest = descriptor.digest;
    indexSize = descriptor.size;
    const current = await destination.resolve(imageTag, { signal }).catch(() => undefined);
    if (current?.digest !== descriptor.digest) {
      await destination.push(descriptor, bytes, { signal });
      await destination.tag(descriptor, imageTag, { signal });
      transferred++;
    }
  }
  const dependencies = options.withDeps
    ? wanted.flatMap((entry) =>
        entry.tab
          ? dependencyImages(entry.tab).map((dep) => ({
              ...locate(dep.namespace, dep.imageName, options),
              imageTag: dep.tag,
            }))
          : [],
      )
    : [];
  return {
    image: {
      repository,
      destination: destinationName,
      imageTag,
      indexDigest,
      indexSize,
      bottleTags: wanted.map((e) => e.tag),
      transferred,
    },
    dependencies,
  };
}
