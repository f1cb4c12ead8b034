/**
 * `ferry bottle push`: what `brew pr-upload` does through skopeo, without either. Blobs first,
 * each manifest by digest, the index by tag last, so a tag never names a half-pushed image; an
 * oversized index or a bottle tag already present (--keep-old) is refused before any push.
 */
import { createReadStream } from 'node:fs';
import { fetchManifest, type Target } from '@ferry/artifact';
import { FerryError, MediaType, type Descriptor, type ImageIndex } from '@ferry/oci';
import { buildBottleImage, type BuiltBottleImage } from './build.js';
import type { BottleFile } from './inputs.js';
import { imageName, parseFormulaFullName } from './names.js';
import { imageTag } from './versions.js';

export interface PushBottlesOptions {
  /** Where core formulae go (default homebrew/core); taps go to their own namespace. */
  namespace?: string;
  keepOld?: boolean;
  signal?: AbortSignal;
  openTarget(repository: string): Target | Promise<Target>;
  onEvent?(event: {
    type: 'exists' | 'uploaded';
    repository: string;
    descriptor: Descriptor;
    what: string;
  }): void;
}

export interface PushedImage {
  repository: string;
  imageTag: string;
  indexDigest: string;
  bottleTags: string[];
}

export async function pushBottles(
  files: BottleFile[],
  options: PushBottlesOptions,
): Promise<PushedImage[]> {
  const groups = new Map<string, BottleFile[]>();
  for (const file of files) {
    const { namespace: tap, name } = parseFormulaFullName(file.bottle.name);
    const repository = `${tap === 'homebrew/core' ? (options.namespace ?? 'homebrew/core') : tap}/${imageName(name)}`;
    const key = `${repository}:${imageTag(file.bottle.pkgVersion, file.bottle.rebuild ?? 0)}`;
    groups.set(key, [...(groups.get(key) ?? []), file]);
  }
  // Build every image before pushing any: a refusal (size, duplicate tag) leaves the registry untouched.
  const plans: {
    repository: string;
    target: Target;
    built: BuiltBottleImage;
    files: BottleFile[];
  }[] = [];
  for (const [key, group] of groups) {
    const repository = key.slice(0, key.lastIndexOf(':'));
    const target = await options.openTarget(repository);
    const tag = key.slice(key.lastIndexOf(':') + 1);
    const existingIndex = options.keepOld ? await existing(target, tag, options.signal) : undefined;
    const built = buildBottleImage(
      group.map((file) => file.bottle),
      existingIndex ? { existingIndex, keepOld: true } : {},
    );
    plans.push({ repository, target, built, files: group });
  }
  const pushed: PushedImage[] = [];
  for (const { repository, target, built, files: group } of plans) {
    const report = (type: 'exists' | 'uploaded', descriptor: Descriptor, what: string) =>
      options.onEvent?.({ type, repository, descriptor, what });
    const put = async (
      descriptor: Descriptor,
      content: Uint8Array | (() => NodeJS.ReadableStream),
      what: string,
    ) => {
      if (await target.exists(descriptor, { signal: options.signal }))
        return report('exists', descriptor, what);
      await target.push(descriptor, content as never, { signal: options.signal });
      report('uploaded', descriptor, what);
    };
    for (const [index, bottle] of built.bottles.entries()) {
      const path = group[index]?.tarballPath;
      if (!path) throw new FerryError('ERR_INTERNAL', 'a built bottle lost its tarball');
      await put(
        bottle.layer,
        () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
        bottle.fileName,
      );
      if (bottle.configBytes)
        await put(
          bottle.config,
          bottle.configBytes,
          `${repository.split('/').pop() ?? ''} ${bottle.tag} config`,
        );
      await put(
        bottle.entry,
        bottle.manifestBytes,
        `${repository.split('/').pop() ?? ''} ${bottle.tag} manifest`,
      );
    }
    const indexDescriptor: Descriptor = {
      ...built.index.descriptor,
      mediaType: MediaType.OciIndex,
    };
    await target.push(indexDescriptor, built.index.bytes, { signal: options.signal });
    await target.tag(indexDescriptor, built.imageTag, { signal: options.signal });
    report(
      'uploaded',
      indexDescriptor,
      `${repository.split('/').pop() ?? ''} index ${built.imageTag}`,
    );
    pushed.push({
      repository,
      imageTag: built.imageTag,
      indexDigest: indexDescriptor.digest,
      bottleTags: built.index.index.manifests.map(
        (m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? m.digest,
      ),
    });
  }
  return pushed;
}

async function existing(
  target: Target,
  tag: string,
  signal?: AbortSignal,
): Promise<ImageIndex | undefined> {
  let descriptor: Descriptor;
  try {
    descriptor = await target.resolve(tag, { signal });
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status === 404 || (error as { code?: string }).code === 'ERR_NOT_FOUND') return undefined;
    throw error;
  }
  const { parsed } = await fetchManifest(target, descriptor, { signal });
  if (parsed.kind !== 'index') {
    throw new FerryError(
      'ERR_INVALID_BOTTLE',
      `${target.name}:${tag} is not a bottle index; --keep-old cannot merge into it`,
    );
  }
  return parsed.index;
}
