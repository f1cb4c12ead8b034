/**
 * Packs files and directories into an OCI artifact the way `oras push` does (oras-go's file store
 * and `PackManifest`), but reproducibly: the same inputs always give the same manifest bytes, so a
 * second push is a no-op and a digest can be predicted before pushing.
 */
import { createReadStream, type Stats } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import {
  Annotation,
  EMPTY_JSON_BYTES,
  EmptyJson,
  FerryError,
  MediaType,
  computeDigest,
  quote,
  type Descriptor,
  type Digest,
  type ImageManifest,
  ErrorCode,
} from '@ferry/oci';
import type { FileHasher } from './digest-cache.js';
import { digestFileReusing } from './file-digest.js';
import { limitBySize, LARGE_TRANSFER_MIN_SIZE } from './limit.js';
import { readOptions } from './read-options.js';
import { UNSAFE_PATH, defaultTitle, validateTitle } from './paths.js';
import { tarDirectory, unsupportedFile } from './tar-create.js';
import { ArtifactErrorCode } from './errors.js';
import { encodeManifest, sorted } from './manifest-encoding.js';
import { sharedSignal } from './shared-signal.js';

/** oras-go's artifactType for a v1.1 artifact without a config, when none is given. */
export const MediaTypeUnknownArtifact = 'application/vnd.unknown.artifact.v1';
/** oras-go's config media type for v1.0 manifests and for `--config` files given without one. */
export const MediaTypeUnknownConfig = 'application/vnd.unknown.config.v1+json';

export interface FileInput {
  /** Where the file or directory is on disk. */
  path: string;
  /** Its name in the artifact. Default: the path as given, cleaned, with forward slashes. */
  title?: string | undefined;
  mediaType?: string | undefined;
}

export interface PackOptions {
  /** v1.1: `manifest.artifactType`; v1.0 without a config: the config's media type. */
  artifactType?: string | undefined;
  /**
   * Default v1.1, except that a config without an artifact type selects v1.0, as in ORAS (image
   * spec 1.1 wants an artifact type that a v1.0 manifest carries in its config media type).
   */
  imageSpec?: 'v1.1' | 'v1.0' | undefined;
  config?: { path: string; mediaType?: string | undefined } | undefined;
  annotations?: Record<string, string> | undefined;
  /** Layer annotations, by title. */
  fileAnnotations?: Record<string, Record<string, string>> | undefined;
  configAnnotations?: Record<string, string> | undefined;
  subject?: Descriptor | undefined;
  /** Allow absolute titles and `..` segments (`--disable-path-validation`). */
  disablePathValidation?: boolean | undefined;
  /** SOURCE_DATE_EPOCH: the `created` annotation (unless given) and the mtime in tarballs. */
  sourceDateEpoch?: number | undefined;
  /**
   * How a file's digest is learned. Default: read and hash it. A push passes one that consults
   * the digest cache and starts uploads while it hashes.
   */
  hashFile?: FileHasher | undefined;
  /** Where directory tarballs are staged. Default: the OS temp directory. */
  tempDir?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface PackedBlob {
  descriptor: Descriptor;
  /** Opens the content, again for each retry. */
  open: () => Readable;
  cleanup?: () => Promise<void>;
}

export interface PackedArtifact {
  manifest: ImageManifest;
  /** The exact bytes to push; `descriptor` describes them. */
  manifestBytes: Buffer;
  descriptor: Descriptor;
  config: PackedBlob;
  layers: PackedBlob[];
  /** Removes staged tarballs; call once the blobs are pushed. */
  cleanup(): Promise<void>;
}

const MAX_TAR_MTIME = 0o77777777777; // the largest mtime a ustar header holds (year 2242)
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

function invalid(message: string): FerryError {
  return new FerryError(ErrorCode.InvalidOptions, message);
}

/** The manifest version and artifact type, with ORAS's rules for combining them with a config. */
function resolveSpec(options: PackOptions): { version: 'v1.0' | 'v1.1'; artifactType?: string } {
  const { config, subject } = options;
  const artifactType = options.artifactType || undefined;
  let version = options.imageSpec;
  if (config && !artifactType) {
    if (version === 'v1.1') {
      throw invalid(
        'an image-spec v1.1 artifact with a config needs an artifact type: set one (--artifact-type) or use image spec v1.0',
      );
    }
    version = 'v1.0';
  }
  if (version === 'v1.0') {
    if (config && artifactType) {
      throw invalid('an artifact type and a config cannot both be given for image spec v1.0');
    }
    if (subject) throw invalid('a subject (attach) needs image spec v1.1');
    return { version };
  }
  return { version: 'v1.1', artifactType: artifactType ?? MediaTypeUnknownArtifact };
}

function manifestAnnotations(options: PackOptions): Record<string, string> {
  const annotations = { ...options.annotations };
  const epoch = options.sourceDateEpoch;
  if (
    epoch !== undefined &&
    !(Number.isSafeInteger(epoch) && epoch >= 0 && epoch <= MAX_TAR_MTIME)
  ) {
    throw invalid(`SOURCE_DATE_EPOCH must be a whole number of seconds, not ${String(epoch)}`);
  }
  const created = annotations[Annotation.Created];
  if (created === undefined && epoch !== undefined) {
    // RFC 3339 in UTC without fractions, as Go's time.RFC3339 formats it.
    annotations[Annotation.Created] = new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
  } else if (
    created !== undefined &&
    !(RFC3339.test(created) && !Number.isNaN(Date.parse(created)))
  ) {
    throw new FerryError(
      ArtifactErrorCode.InvalidAnnotation,
      `${Annotation.Created} must be an RFC 3339 date and time, not ${quote(created)}`,
    );
  }
  return annotations;
}

/**
 * Titles for every input, checked for safety (unless disabled) and uniqueness. Like ORAS,
 * annotations for titles not in the artifact are ignored: one annotation file may serve many pushes.
 */
function titlesOf(files: FileInput[], options: PackOptions): string[] {
  const titles = files.map((file) => file.title ?? defaultTitle(file.path));
  const seen = new Set<string>();
  for (const title of titles) {
    if (title === '' || title.includes('\0')) {
      throw new FerryError(UNSAFE_PATH, `file title ${quote(title)} is empty or contains NUL`);
    }
    if (!options.disablePathValidation) validateTitle(title);
    if (seen.has(title)) {
      throw new FerryError(
        ArtifactErrorCode.DuplicateTitle,
        `two files have the title ${quote(title)}`,
      );
    }
    seen.add(title);
  }
  return titles;
}

async function statInput(file: string) {
  try {
    return await stat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new FerryError(ErrorCode.FileNotFound, `${quote(file)} does not exist`, { cause: error });
  }
}

/** Reads and hashes a file (sha256) through one reused buffer (see file-digest.ts). */
export const digestFile: FileHasher = (file, signal, size) => digestFileReusing(file, signal, size);

function bytesBlob(descriptor: Descriptor, bytes: Uint8Array): PackedBlob {
  return { descriptor, open: () => Readable.from([Buffer.from(bytes)]) };
}

export async function pack(files: FileInput[], options: PackOptions = {}): Promise<PackedArtifact> {
  const { version, artifactType } = resolveSpec(options);
  const annotations = manifestAnnotations(options);
  const titles = titlesOf(files, options);
  const { signal } = options;
  const hashFile = options.hashFile ?? digestFile;
  let staging: string | undefined;
  // Stops the hashing ahead (below) when pack fails or is aborted.
  const stop = new AbortController();
  const hashSignal = sharedSignal(stop, signal);
  const cleanup = async () => {
    if (staging) await rm(staging, { recursive: true, force: true });
  };
  try {
    const ahead = hashAhead(files, hashFile, hashSignal);
    const layers: PackedBlob[] = [];
    for (const [index, file] of files.entries()) {
      signal?.throwIfAborted();
      const title = titles[index] ?? '';
      const extra = options.fileAnnotations?.[title];
      const { stats, hashed } = await (ahead[index] as Promise<Examined>);
      if (stats.isDirectory()) {
        staging ??= await mkdtemp(path.join(options.tempDir ?? tmpdir(), 'ferry-pack-'));
        const tarball = path.join(staging, `layer-${index}.tar.gz`);
        const mtime = options.sourceDateEpoch ?? 0;
        const result = await tarDirectory(file.path, title, tarball, { mtime, signal });
        // ferry's own keys win over user annotations: unpacking depends on them.
        const layerAnnotations = sorted({
          ...extra,
          [Annotation.OrasContentDigest]: result.tarDigest,
          [Annotation.OrasContentUnpack]: 'true',
          [Annotation.Title]: title,
        });
        layers.push({
          descriptor: {
            mediaType: file.mediaType ?? MediaType.OciLayerGzip,
            digest: result.digest,
            size: result.size,
            annotations: layerAnnotations,
          },
          open: () => createReadStream(tarball, readOptions(result.size)),
          cleanup: () => rm(tarball, { force: true }),
        });
      } else if (hashed) {
        const { digest, size } = hashed;
        layers.push({
          descriptor: {
            mediaType: file.mediaType ?? MediaType.OciLayer,
            digest,
            size,
            annotations: sorted({ ...extra, [Annotation.Title]: title }),
          },
          open: () => createReadStream(file.path, readOptions(size)),
        });
      } else {
        throw unsupportedFile(file.path, stats);
      }
    }

    const configAnnotations = options.configAnnotations;
    const withConfigAnnotations = <T extends Descriptor>(descriptor: T): T =>
      configAnnotations && Object.keys(configAnnotations).length > 0
        ? { ...descriptor, annotations: sorted(configAnnotations) }
        : descriptor;
    let config: PackedBlob;
    if (options.config) {
      const configPath = options.config.path;
      const { digest, size } = await hashFile(configPath, signal);
      const mediaType = options.config.mediaType ?? MediaTypeUnknownConfig;
      config = {
        descriptor: withConfigAnnotations({ mediaType, digest, size }),
        open: () => createReadStream(configPath, readOptions(size)),
      };
    } else if (version === 'v1.1') {
      config = bytesBlob(withConfigAnnotations({ ...EmptyJson }), EMPTY_JSON_BYTES);
    } else {
      // ORAS's v1.0 config: `{}` under the artifact type, without the empty descriptor's `data`.
      const mediaType = options.artifactType || MediaTypeUnknownConfig;
      const descriptor = { mediaType, digest: EmptyJson.digest, size: EmptyJson.size };
      config = bytesBlob(withConfigAnnotations(descriptor), EMPTY_JSON_BYTES);
    }
    // An image-spec 1.1 manifest needs at least one layer; ORAS uses the empty descriptor.
    if (version === 'v1.1' && layers.length === 0) {
      layers.push(bytesBlob({ ...EmptyJson }, EMPTY_JSON_BYTES));
    }

    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      ...(artifactType !== undefined && { artifactType }),
      config: config.descriptor,
      layers: layers.map((layer) => layer.descriptor),
      ...(options.subject && { subject: options.subject }),
      ...(Object.keys(annotations).length > 0 && { annotations: sorted(annotations) }),
    };
    const manifestBytes = Buffer.from(encodeManifest(manifest));
    const descriptor: Descriptor = {
      mediaType: MediaType.OciManifest,
      digest: computeDigest(manifestBytes),
      size: manifestBytes.byteLength,
    };
    descriptor.artifactType = artifactType ?? config.descriptor.mediaType;
    if (manifest.annotations) descriptor.annotations = manifest.annotations;
    return { manifest, manifestBytes, descriptor, config, layers, cleanup };
  } catch (error) {
    stop.abort();
    await cleanup();
    throw error;
  }
}

interface Examined {
  stats: Stats;
  /** For a regular file. */
  hashed?: { digest: Digest; size: number };
}

/** Files of up to 1 MiB hashed at once; larger ones one at a time (they are CPU-bound). */
const HASH_AHEAD = 8;

/**
 * Stats every input and hashes the regular files ahead of pack's loop, several small ones at once:
 * one after another, a 1,000-file push spent 0.5 s here before its first upload. Results come back
 * in input order; a failure surfaces when the loop reaches that file (the others are not left
 * unhandled).
 */
function hashAhead(
  files: FileInput[],
  hashFile: FileHasher,
  signal: AbortSignal,
): Promise<Examined>[] {
  const run = limitBySize(HASH_AHEAD, 1);
  // Stats run at once, but files join the hashing queue in input order: the loop awaits them in
  // that order, and a later file whose stat came back first must not take an earlier one's slot.
  let queuedBefore: Promise<unknown> = Promise.resolve();
  return files.map((file) => {
    const stat = statInput(file.path);
    stat.catch(() => {});
    const queued = queuedBefore.then(async () => {
      const stats = await stat;
      if (!stats.isFile()) return { stats };
      const hashed = run(stats.size >= LARGE_TRANSFER_MIN_SIZE, async () => {
        signal.throwIfAborted();
        return hashFile(file.path, signal, stats.size);
      });
      hashed.catch(() => {});
      return { stats, hashed };
    });
    queuedBefore = queued.catch(() => {});
    const examined = queued.then(async ({ stats, hashed }): Promise<Examined> =>
      hashed ? { stats, hashed: await hashed } : { stats },
    );
    examined.catch(() => {});
    return examined;
  });
}
