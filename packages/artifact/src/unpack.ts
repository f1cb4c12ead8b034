/**
 * Writes an artifact's titled layers to a directory, as `oras pull` does. Nothing reaches its
 * final path until its bytes are verified: each file is written to a temp file beside it and
 * renamed, each directory is extracted into a staging directory beside it and moved into place.
 */
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, readdir, rm, rmdir, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { addAbortSignal, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  Annotation,
  DigestTransform,
  FerryError,
  quote,
  SizeMismatchError,
  verifyDigest,
  type Descriptor,
  type ImageManifest,
  ErrorCode,
} from '@ferry/oci';
import { makeDirectory } from '@ferry/registry';
import { canCopyTo, canFetchBytes } from './capabilities.js';
import { durable } from './durable.js';
import { limitBySize, LARGE_TRANSFER_MIN_SIZE } from './limit.js';
import { assertNoSymlinkEscape, resolveTitlePath } from './paths.js';
import { applyDirectoryMetadata, extractTarGzip } from './tar-extract.js';
import { expansionLimit } from './tar-limits.js';
import type { Fetcher } from './target.js';
import { ArtifactErrorCode } from './errors.js';

export interface UnpackOptions {
  outputDir: string;
  /** Which titles to write (see {@link globMatcher}). Default: all. */
  include?: ((title: string) => boolean) | undefined;
  /** Refuse (ERR_FILE_EXISTS) rather than overwrite (`-k/--keep-old-files`). */
  keepOldFiles?: boolean | undefined;
  /**
   * Let a directory layer expand past {@link expansionLimit} of its compressed size
   * (`--allow-large-expansion`). Default: refuse it (ERR_EXPANSION_TOO_LARGE), writing nothing.
   */
  allowLargeExpansion?: boolean | undefined;
  /** Write titles that lead outside `outputDir` (`-T/--allow-path-traversal`). */
  allowPathTraversal?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Called with the number of new (compressed) bytes received for a title. */
  onProgress?: ((title: string, bytes: number) => void) | undefined;
  /** Layers fetched and written at once. Default 4. */
  concurrency?: number | undefined;
  /**
   * Of those, at most this many of 1 MiB or more (and directories). Default: `concurrency`.
   */
  largeConcurrency?: number | undefined;
}

export interface UnpackedFile {
  title: string;
  /** Where it was written (absolute). */
  path: string;
  descriptor: Descriptor;
  directory: boolean;
}

function titleOf(descriptor: Descriptor): string | undefined {
  return descriptor.annotations?.[Annotation.Title] || undefined;
}

/** The layers a pull writes: those with a title (ORAS skips the rest), filtered by `include`. */
export function selectLayers(
  manifest: ImageManifest,
  include?: (title: string) => boolean,
): Descriptor[] {
  return manifest.layers.filter((layer) => {
    const title = titleOf(layer);
    return title !== undefined && (include?.(title) ?? true);
  });
}

function isDirectoryLayer(descriptor: Descriptor): boolean {
  return descriptor.annotations?.[Annotation.OrasContentUnpack] === 'true';
}

/** Random per process, so that temp names never clash with another ferry's; a counter within it. */
const tempPrefix = randomBytes(6).toString('hex');
let tempCount = 0;

/** A hidden name beside `target`, unique, short enough for any file system. */
function partialPath(target: string): string {
  const base = path.basename(target).slice(0, 100);
  return path.join(path.dirname(target), `.${base}.ferry-${tempPrefix}-${++tempCount}.partial`);
}

async function exists(target: string): Promise<boolean> {
  return lstat(target).then(
    () => true,
    () => false,
  );
}

function fileExists(title: string, target: string): FerryError {
  return new FerryError(
    ErrorCode.FileExists,
    `${quote(title)} would overwrite ${target}; remove it, or pull without -k/--keep-old-files`,
  );
}

class ProgressTransform extends Transform {
  constructor(readonly report: (bytes: number) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    this.report(chunk.byteLength);
    callback(null, chunk);
  }
}

interface Plan {
  title: string;
  target: string;
  descriptor: Descriptor;
  directory: boolean;
  /** The directories this pull renames files into (shared by its plans): each is synced once, at the end. */
  renamedInto: Set<string>;
}

/**
 * Streams that check the fetched bytes again, whatever the Fetcher promised: a temp file is
 * renamed only once these have seen the whole blob match its descriptor.
 */
function checks(plan: Plan, options: UnpackOptions): Transform[] {
  const { digest, size } = plan.descriptor;
  const verify = new DigestTransform({
    expectedDigest: digest,
    expectedSize: size,
    subject: plan.title,
  });
  const report = options.onProgress;
  return report ? [verify, new ProgressTransform((bytes) => report(plan.title, bytes))] : [verify];
}

/** Files up to this size are fetched whole, checked, then written with one call. */
const SMALL_FILE = 256 * 1024;

/**
 * A small file without the stream machinery: a pipeline per file (an AbortController, and a
 * DOMException when it finishes) cost more than the file's bytes. Same checks, same temp file.
 */
async function unpackSmallFile(plan: Plan, fetcher: Fetcher, options: UnpackOptions) {
  const { digest, size } = plan.descriptor;
  const bytes = await fetchSmall(plan, fetcher, options);
  if (bytes.byteLength !== size) throw new SizeMismatchError(size, bytes.byteLength, plan.title);
  verifyDigest(bytes, digest, plan.title);
  options.onProgress?.(plan.title, size);
  const temp = partialPath(plan.target);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await durable.syncFile(handle, temp);
    } finally {
      await handle.close();
    }
    await place(temp, plan, options);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** A small file's bytes: whole from a registry that hands them over so (RegistryTarget), else read from the stream. */
async function fetchSmall(plan: Plan, fetcher: Fetcher, options: UnpackOptions): Promise<Buffer> {
  if (canFetchBytes(fetcher)) {
    return fetcher.fetchBytes(plan.descriptor, { signal: options.signal });
  }
  const { size } = plan.descriptor;
  const source = await fetcher.fetch(plan.descriptor, { signal: options.signal });
  // As pipeline() does below: a fetcher that ignores the signal must still stop.
  if (options.signal) addAbortSignal(options.signal, source);
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.byteLength;
      if (total > size) break;
    }
  } finally {
    source.destroy();
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
}

async function unpackFile(plan: Plan, fetcher: Fetcher, options: UnpackOptions): Promise<void> {
  if (plan.descriptor.size <= SMALL_FILE && !canCopyTo(fetcher)) {
    return unpackSmallFile(plan, fetcher, options);
  }
  const temp = partialPath(plan.target);
  const { signal } = options;
  if (canCopyTo(fetcher)) {
    // The fetcher verified the content already (a cache): a kernel copy, no second hash pass.
    try {
      // copyTo syncs what it wrote.
      await fetcher.copyTo(plan.descriptor, temp, { signal });
      options.onProgress?.(plan.title, plan.descriptor.size);
      await place(temp, plan, options);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return;
  }
  // The stream first: a caching fetcher may spend minutes filling its cache, and a process killed
  // meanwhile must not leave a temp file in the output directory.
  const source = await fetcher.fetch(plan.descriptor, { signal });
  try {
    const output = await open(temp, 'wx').then(
      (handle) => handle.createWriteStream(),
      (error: unknown) => {
        source.destroy();
        throw error;
      },
    );
    await pipeline([source, ...checks(plan, options), output], signal ? { signal } : {});
    await durable.syncPath(temp);
    await place(temp, plan, options);
  } catch (error) {
    // Only on failure: after a rename there is nothing left to remove (a syscall per file saved).
    await rm(temp, { force: true });
    throw error;
  }
}

/** Every directory above `target`, nearest first (titles may lead outside the output directory). */
function ancestorsOf(target: string): string[] {
  const ancestors: string[] = [];
  for (let dir = path.dirname(target); ; dir = path.dirname(dir)) {
    ancestors.push(dir);
    if (path.dirname(dir) === dir) return ancestors;
  }
}

/**
 * Moves a synced temp file to its final name. The directory is synced once for all the files
 * renamed into it, when the pull ends (`options.renamedInto`), rather than once per file.
 */
async function place(temp: string, plan: Plan, options: UnpackOptions): Promise<void> {
  if (options.keepOldFiles) await placeWithoutOverwrite(temp, plan);
  else await durable.rename(temp, plan.target);
  plan.renamedInto.add(path.dirname(plan.target));
}

/** link(2) refuses an existing name atomically; where links are unsupported, check then rename. */
async function placeWithoutOverwrite(temp: string, plan: Plan): Promise<void> {
  try {
    await link(temp, plan.target);
    await unlink(temp);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw fileExists(plan.title, plan.target);
    }
  }
  if (await exists(plan.target)) throw fileExists(plan.title, plan.target);
  await durable.rename(temp, plan.target);
}

/**
 * Moves `source` to `target`; an existing directory is merged into, as ORAS extracts over one,
 * and anything else in the way (a file, a symlink) is replaced rather than followed.
 */
async function moveInto(source: string, target: string, touched: Set<string>): Promise<void> {
  touched.add(path.dirname(target));
  const current = await lstat(target).catch(() => undefined);
  if (!current) return durable.rename(source, target);
  if (current.isDirectory() && (await lstat(source)).isDirectory()) {
    for (const name of await readdir(source)) {
      await moveInto(path.join(source, name), path.join(target, name), touched);
    }
    return rmdir(source);
  }
  await rm(target, { recursive: true, force: true });
  await durable.rename(source, target);
}

async function unpackDirectory(plan: Plan, fetcher: Fetcher, options: UnpackOptions) {
  const source = await fetcher.fetch(plan.descriptor, { signal: options.signal });
  const staging = partialPath(plan.target);
  try {
    await mkdir(staging);
    const directories = await extractTarGzip(source, staging, plan.title, {
      expectedTarDigest: plan.descriptor.annotations?.[Annotation.OrasContentDigest],
      maxExpandedSize: options.allowLargeExpansion
        ? undefined
        : expansionLimit(plan.descriptor.size),
      before: checks(plan, options),
      signal: options.signal,
    });
    if (options.keepOldFiles && (await exists(plan.target))) {
      throw fileExists(plan.title, plan.target);
    }
    await moveInto(staging, plan.target, plan.renamedInto);
    await applyDirectoryMetadata(plan.target, directories);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Writes each titled layer under `options.outputDir`. Every title is checked before anything is
 * fetched, so that an unsafe or clashing name stops the pull with nothing written.
 */
export async function unpack(
  manifest: ImageManifest,
  fetcher: Fetcher,
  options: UnpackOptions,
): Promise<UnpackedFile[]> {
  const outputDir = path.resolve(options.outputDir);
  const plans: Plan[] = [];
  const renamedInto = new Set<string>();
  const targets = new Set<string>();
  const safeParents = new Set<string>();
  /** Each directory above a planned target → one target below it. */
  const above = new Map<string, string>();
  for (const descriptor of selectLayers(manifest, options.include)) {
    const title = titleOf(descriptor) ?? '';
    const target = resolveTitlePath(outputDir, title, options.allowPathTraversal);
    if (targets.has(target)) {
      throw new FerryError(
        ArtifactErrorCode.DuplicateTitle,
        `two layers would be written to ${quote(title)}`,
      );
    }
    // One layer's path inside another's (x and x/y) cannot both be written, and in parallel the
    // loser would fail half-way: refuse before anything is fetched.
    // Looked up by ancestor, not by comparing every pair: 1,000 titles made half a million pairs.
    const nested = above.get(target) ?? ancestorsOf(target).find((a) => targets.has(a));
    if (nested !== undefined) {
      throw new FerryError(
        ArtifactErrorCode.DuplicateTitle,
        `layers ${quote(title)} and ${quote(path.relative(outputDir, nested))} would be written one inside the other`,
      );
    }
    targets.add(target);
    for (const ancestor of ancestorsOf(target)) above.set(ancestor, target);
    // Only the directories above a title are walked, so titles sharing a parent share the answer.
    const parent = path.dirname(target);
    if (!options.allowPathTraversal && !safeParents.has(parent)) {
      await assertNoSymlinkEscape(outputDir, target, title);
      safeParents.add(parent);
    }
    if (options.keepOldFiles && (await exists(target))) throw fileExists(title, target);
    plans.push({
      title,
      target,
      descriptor,
      directory: isDirectoryLayer(descriptor),
      renamedInto,
    });
  }
  // Many small files are bound by round trips, not bytes: fetch several at once.
  const concurrency = options.concurrency ?? 4;
  const run = limitBySize(concurrency, options.largeConcurrency ?? concurrency);
  // One mkdir per directory, not per file: for 1,000 files in one directory, 999 failed with EEXIST.
  const directories = new Map<string, Promise<unknown>>();
  const makeParent = (target: string) => {
    const parent = path.dirname(target);
    let made = directories.get(parent);
    if (!made) {
      made = makeDirectory(parent);
      directories.set(parent, made);
    }
    return made;
  };
  const unpacked = await Promise.all(
    plans.map((plan) =>
      run(
        plan.directory || plan.descriptor.size >= LARGE_TRANSFER_MIN_SIZE,
        async (): Promise<UnpackedFile> => {
          options.signal?.throwIfAborted();
          await makeParent(plan.target);
          if (plan.directory) await unpackDirectory(plan, fetcher, options);
          else await unpackFile(plan, fetcher, options);
          const { title, target, descriptor, directory } = plan;
          return { title, path: target, descriptor, directory };
        },
      ),
    ),
  );
  // Each file was synced before its rename; now the renames themselves.
  await Promise.all([...renamedInto].map((dir) => durable.syncDirectory(dir)));
  return unpacked;
}

// Kept importable from here: callers and tests used to find it in this module.
export { globMatcher } from './glob.js';
