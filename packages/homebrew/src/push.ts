/**
 * `ferry bottle push`: what `brew pr-upload` does through skopeo (`GitHubPackages#upload_bottles`,
 * `github_packages.rb`), without either. Every image is checked first (`preupload_check`): an
 * image tag that already exists is refused unless `keepOld` (then merged), and a refusal leaves
 * the registry untouched. Then blobs, each manifest by digest, the index by tag last, so a tag
 * never names a half-pushed image.
 */
import { createReadStream } from 'node:fs';
import { fetchManifest, type Content, type Target } from '@ferry/artifact';
import { FerryError, isNotFound, MediaType, type Descriptor, type ImageIndex } from '@ferry/oci';
import { buildBottleImage, pushImageTag, type BuiltBottleImage } from './build.js';
import {
  bottleDestination,
  bottleForDestination,
  type BottleDestination,
  type DestinationOptions,
} from './destination.js';
import { HomebrewErrorCode } from './errors.js';
import type { BottleFile } from './inputs.js';

export interface PushBottlesOptions extends DestinationOptions {
  keepOld?: boolean;
  /** `--dry-run`: plan and report every image, contact no registry, upload nothing. */
  dryRun?: boolean;
  /**
   * `--warn-on-upload-failure` (`warn_on_error`): an image whose tag already exists, or whose
   * check failed, is skipped with a warning instead of stopping the push.
   */
  warnOnError?: boolean;
  signal?: AbortSignal;
  openTarget(host: string, repository: string): Target | Promise<Target>;
  onEvent?(event: PushEvent): void;
}

export type PushEvent =
  | { type: 'exists' | 'uploaded'; repository: string; descriptor: Descriptor; what: string }
  | { type: 'warning'; repository: string; message: string };

export interface PushedImage {
  host: string;
  repository: string;
  imageTag: string;
  indexDigest: string;
  indexSize: number;
  bottleTags: string[];
  /** True for `dryRun`: built and reported, not uploaded. */
  dryRun: boolean;
}

interface Plan {
  destination: BottleDestination;
  imageTag: string;
  files: BottleFile[];
  target?: Target;
  built?: BuiltBottleImage;
}

function imageRef(plan: Plan): string {
  return `${plan.destination.host}/${plan.destination.repository}:${plan.imageTag}`;
}

export async function pushBottles(
  files: BottleFile[],
  options: PushBottlesOptions,
): Promise<PushedImage[]> {
  const plans = new Map<string, Plan>();
  for (const file of files) {
    const destination = bottleDestination(file, options);
    const imageTag = pushImageTag(file.bottle.pkgVersion, file.bottle.rebuild ?? 0);
    const key = `${destination.host}/${destination.repository}:${imageTag}`;
    const plan = plans.get(key) ?? { destination, imageTag, files: [] };
    plan.files.push(file);
    plans.set(key, plan);
  }
  // preupload_check for every image before any upload: a refusal leaves the registry untouched.
  const ready: Plan[] = [];
  for (const plan of plans.values()) {
    const bottles = plan.files.map((file) => bottleForDestination(file, plan.destination));
    if (options.dryRun) {
      plan.built = buildBottleImage(bottles);
      ready.push(plan);
      continue;
    }
    const { host, repository } = plan.destination;
    let existingIndex: ImageIndex | undefined;
    let exists: boolean;
    try {
      plan.target = await options.openTarget(host, repository);
      const current = await existingTag(plan.target, plan.imageTag, options.signal);
      exists = current !== undefined;
      if (current && options.keepOld) {
        existingIndex = await existingBottleIndex(
          plan.target,
          plan.imageTag,
          current,
          options.signal,
        );
      }
    } catch (error) {
      if (!options.warnOnError) throw error;
      warn(
        options,
        repository,
        `${imageRef(plan)} inspection returned an error, skipping upload!\n${(error as Error).message}`,
      );
      continue;
    }
    if (exists && !options.keepOld) {
      const message = `${imageRef(plan)} already exists!`;
      if (options.warnOnError) {
        warn(options, repository, `${imageRef(plan)} already exists, skipping upload!`);
        continue;
      }
      throw new FerryError(
        HomebrewErrorCode.BottleExists,
        `${message} Pass --keep-old to add bottles to it, or push a new rebuild`,
      );
    }
    // With --keep-old and no such tag yet, keep_old is ignored and a new index is written.
    plan.built = buildBottleImage(bottles, existingIndex ? { existingIndex, keepOld: true } : {});
    ready.push(plan);
  }
  const pushed: PushedImage[] = [];
  for (const plan of ready) {
    const built = plan.built as BuiltBottleImage;
    const { host, repository } = plan.destination;
    if (!options.dryRun) await upload(plan, built, options);
    pushed.push({
      host,
      repository,
      imageTag: built.imageTag,
      indexDigest: built.index.descriptor.digest,
      indexSize: built.index.descriptor.size,
      bottleTags: built.index.index.manifests.map(
        (m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? m.digest,
      ),
      dryRun: options.dryRun === true,
    });
  }
  return pushed;
}

function warn(options: PushBottlesOptions, repository: string, message: string): void {
  options.onEvent?.({ type: 'warning', repository, message });
}

async function upload(plan: Plan, built: BuiltBottleImage, options: PushBottlesOptions) {
  const { target } = plan;
  if (!target) throw new FerryError(HomebrewErrorCode.Internal, 'an upload lost its target');
  const { repository } = plan.destination;
  const short = repository.split('/').pop() ?? '';
  const report = (type: 'exists' | 'uploaded', descriptor: Descriptor, what: string) =>
    options.onEvent?.({ type, repository, descriptor, what });
  const put = async (descriptor: Descriptor, content: Content, what: string) => {
    if (await target.exists(descriptor, { signal: options.signal }))
      return report('exists', descriptor, what);
    await target.push(descriptor, content, { signal: options.signal });
    report('uploaded', descriptor, what);
  };
  for (const [index, bottle] of built.bottles.entries()) {
    const path = plan.files[index]?.tarballPath;
    if (!path) throw new FerryError(HomebrewErrorCode.Internal, 'a built bottle lost its tarball');
    await put(
      bottle.layer,
      () => createReadStream(path, { highWaterMark: 1024 * 1024 }),
      bottle.fileName,
    );
    if (bottle.configBytes)
      await put(bottle.config, bottle.configBytes, `${short} ${bottle.tag} config`);
    await put(bottle.entry, bottle.manifestBytes, `${short} ${bottle.tag} manifest`);
  }
  const indexDescriptor: Descriptor = { ...built.index.descriptor, mediaType: MediaType.OciIndex };
  await target.push(indexDescriptor, built.index.bytes, { signal: options.signal });
  await target.tag(indexDescriptor, built.imageTag, { signal: options.signal });
  report('uploaded', indexDescriptor, `${short} index ${built.imageTag}`);
}

/** What `tag` names, `undefined` when there is no such tag (skopeo's "manifest unknown"). */
async function existingTag(
  target: Target,
  tag: string,
  signal?: AbortSignal,
): Promise<Descriptor | undefined> {
  try {
    return await target.resolve(tag, { signal });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function existingBottleIndex(
  target: Target,
  tag: string,
  descriptor: Descriptor,
  signal?: AbortSignal,
): Promise<ImageIndex> {
  const { parsed } = await fetchManifest(target, descriptor, { signal });
  if (parsed.kind !== 'index') {
    throw new FerryError(
      HomebrewErrorCode.InvalidBottle,
      `${target.name}:${tag} is not a bottle index; --keep-old cannot merge into it`,
    );
  }
  return parsed.index;
}
