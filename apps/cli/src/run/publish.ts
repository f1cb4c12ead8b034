/** What push and attach share: reading flags into pack() inputs, and uploading a packed artifact. */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { basename, join } from 'node:path';
import {
  defaultCacheDir,
  DigestCache,
  likelyPresentAt,
  pushHasher,
  pushPacked,
  type FileInput,
  type PackedArtifact,
  type PackOptions,
  type PushHasher,
  type Target,
} from '@ferry/artifact';
import { Annotation, MediaType, type Descriptor } from '@ferry/oci';
import type { Context } from '../context.js';
import { checkOutputFile } from './output-path.js';
import { UsageError } from '../exit.js';
import { describe, printStatus } from '../output.js';
import type { Progress } from '../progress.js';
import { writeFileAtomically } from './shared.js';

const MEDIA_TYPE_SUFFIX = /^[A-Za-z0-9][\w!#$&^.+-]*\/[A-Za-z0-9][\w!#$&^.+-]*$/;

/** `path[:mediaType]`; a `:` that is part of the path (C:\x, a:b.txt) stays in the path. */
export function splitFileArgument(argument: string): { path: string; mediaType?: string } {
  const colon = argument.lastIndexOf(':');
  if (colon > 0) {
    const suffix = argument.slice(colon + 1);
    if (MEDIA_TYPE_SUFFIX.test(suffix))
      return { path: argument.slice(0, colon), mediaType: suffix };
  }
  return { path: argument };
}

/** `-a key=value` flags into a map; the value may contain `=`, keys may not repeat. */
export function parseAnnotations(pairs: readonly string[] = []): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`annotation ${JSON.stringify(pair)} is not key=value`);
    const key = pair.slice(0, equals);
    if (Object.hasOwn(annotations, key))
      throw new UsageError(`annotation key ${JSON.stringify(key)} given twice`);
    annotations[key] = pair.slice(equals + 1);
  }
  return annotations;
}

/** ORAS's --annotation-file: `{"$manifest": {…}, "$config": {…}, "<title>": {…}}`. */
export async function readAnnotationFile(
  path: string | undefined,
): Promise<Record<string, Record<string, string>>> {
  if (!path) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`annotation file ${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`annotation file ${path}: expected an object of objects`);
  }
  for (const [key, value] of Object.entries(parsed)) {
    const ok =
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value) &&
      Object.values(value).every((v) => typeof v === 'string');
    if (!ok)
      throw new UsageError(
        `annotation file ${path}: ${JSON.stringify(key)} must map to an object of strings`,
      );
  }
  return parsed as Record<string, Record<string, string>>;
}

export interface StagedInputs {
  files: FileInput[];
  cleanup(): Promise<void>;
}

/** Checks every file argument exists (a usage error if not), and stages `-` (stdin) to a temp file. */
export async function stageFiles(
  arguments_: readonly string[],
  title: string | undefined,
): Promise<StagedInputs> {
  const files: FileInput[] = [];
  let staging: string | undefined;
  for (const argument of arguments_) {
    const { path, mediaType } = splitFileArgument(argument);
    if (path === '-') {
      if (!title) throw new UsageError('reading a file from stdin (-) needs --title <name>');
      staging ??= await mkdtemp(join(tmpdir(), 'ferry-stdin-'));
      const staged = join(staging, 'stdin');
      await pipeline(process.stdin, createWriteStream(staged));
      files.push({ path: staged, title, ...(mediaType ? { mediaType } : {}) });
      continue;
    }
    try {
      await stat(path);
    } catch {
      throw new UsageError(`file not found: ${path}`);
    }
    files.push({ path, ...(mediaType ? { mediaType } : {}) });
  }
  return {
    files,
    cleanup: async () => void (staging && (await rm(staging, { recursive: true, force: true }))),
  };
}

/** Common pack() options from push/attach flags and the environment. */
export async function packOptions(args: {
  annotation?: string[] | undefined;
  'annotation-file'?: string | undefined;
  'artifact-type'?: string | undefined;
  'image-spec'?: 'v1.1' | 'v1.0' | undefined;
  'disable-path-validation'?: boolean | undefined;
}): Promise<PackOptions> {
  const fromFile = await readAnnotationFile(args['annotation-file']);
  const { $manifest = {}, $config = {}, ...perFile } = fromFile;
  const flags = parseAnnotations(args.annotation);
  for (const key of Object.keys(flags)) {
    if (Object.hasOwn($manifest, key))
      throw new UsageError(
        `annotation ${JSON.stringify(key)} is given by both -a and --annotation-file`,
      );
  }
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch !== undefined && !/^\d+$/.test(epoch))
    throw new UsageError(`SOURCE_DATE_EPOCH must be whole seconds, not ${JSON.stringify(epoch)}`);
  return {
    ...(args['artifact-type'] ? { artifactType: args['artifact-type'] } : {}),
    ...(args['image-spec'] ? { imageSpec: args['image-spec'] } : {}),
    annotations: { ...$manifest, ...flags },
    configAnnotations: $config,
    fileAnnotations: perFile,
    disablePathValidation: args['disable-path-validation'] === true,
    ...(epoch !== undefined ? { sourceDateEpoch: Number(epoch) } : {}),
  };
}

/** How a push learns digests: the digest cache, and uploads started while files are hashed. */
export type PushHashing = PushHasher;

/** A progress bar for an upload whose digest is not known yet. */
function eagerBar(path: string, size: number): Descriptor {
  return {
    mediaType: MediaType.OciLayer,
    digest: `sha256:eager-upload:${path}`,
    size,
    annotations: { [Annotation.Title]: basename(path) },
  };
}

/**
 * The digest cache (unless --no-digest-cache or FERRY_DIGEST_CACHE=0) and, for a registry target,
 * uploads that stream while files are hashed (@ferry/artifact pushHasher), with progress bars.
 * Given the tag being pushed, a file of the size of a blob that tag lists now waits for its
 * digest before uploading (likelyPresentAt: a re-push finds it there).
 */
export async function pushHashing(
  target: Target | undefined,
  options: {
    concurrency: number;
    progress: Progress;
    digestCache?: boolean | undefined;
    tag?: string | undefined;
  },
): Promise<PushHashing> {
  const useCache = options.digestCache !== false && process.env.FERRY_DIGEST_CACHE !== '0';
  const { progress } = options;
  return pushHasher(target, {
    concurrency: options.concurrency,
    digestCache: useCache ? await DigestCache.open(defaultCacheDir()) : undefined,
    likelyPresent: target ? likelyPresentAt(target, options.tag) : undefined,
    onEarlyStart: (path, size) => progress.start(eagerBar(path, size), 'Uploading'),
    onEarlyProgress: (path, bytes) => progress.advance(eagerBar(path, 0), bytes),
  });
}

/**
 * Uploads config and layers (skipping what exists), then the manifest by digest or tag, through
 * @ferry/artifact pushPacked; this only draws the bars and prints a line per blob.
 */
export async function uploadPacked(
  context: Context,
  target: Target,
  packed: PackedArtifact,
  options: {
    /** Blobs of 1 MiB or more uploaded at once. */
    concurrency: number;
    /** Blobs uploaded at once in all, small ones included. Default: `concurrency`. */
    total?: number | undefined;
    progress: Progress;
    /** The tag pushed with the manifest. */
    tag?: string | undefined;
    /** Tags for the manifest, the first pushed with it (instead of `tag`). */
    tags?: readonly string[] | undefined;
    eager?: PushHasher['eager'];
  },
): Promise<void> {
  const { progress } = options;
  await pushPacked(target, packed, {
    concurrency: options.concurrency,
    total: options.total,
    tags: options.tags ?? (options.tag ? [options.tag] : []),
    eager: options.eager,
    onEvent: (event) => {
      switch (event.type) {
        case 'start':
          return progress.start(event.descriptor, 'Uploading');
        case 'progress':
          return progress.advance(event.descriptor, event.bytes);
        case 'exists':
        case 'uploaded': {
          const { descriptor, early } = event;
          if (early) progress.finish(eagerBar(early.path, early.size));
          else if (event.type === 'uploaded') progress.finish(descriptor);
          const verb = event.type === 'exists' ? 'Exists' : 'Uploaded';
          return printStatus(context, verb, describe(descriptor), descriptor.digest);
        }
        case 'manifest':
          return printStatus(
            context,
            'Uploaded',
            event.descriptor.mediaType,
            event.descriptor.digest,
          );
      }
    },
  });
}

/** Fails before anything is pushed when --export-manifest names a file in a missing directory. */
export async function checkExportPath(path: string | undefined): Promise<void> {
  if (path) await checkOutputFile('--export-manifest', path);
}

/** --export-manifest: the manifest bytes exactly as pushed. */
export async function exportManifest(
  path: string | undefined,
  packed: PackedArtifact,
): Promise<void> {
  if (!path) return;
  await writeFileAtomically(path, Readable.from([packed.manifestBytes]));
}

export function ensureSomethingToPush(
  files: readonly unknown[],
  annotations: Record<string, string> | undefined,
  what: string,
): void {
  if (files.length === 0 && Object.keys(annotations ?? {}).length === 0) {
    throw new UsageError(`${what} needs at least one file or annotation`);
  }
}
