/**
 * Pulls the selected files of any model artifact into a directory with `ferry pull`'s
 * guarantees: only the selected blobs are fetched, through whatever fetcher is given (the
 * download cache: resumable, verified), single files by @ferry/artifact's unpack (temp file,
 * digest check, rename; path traversal refused), tar layers by {@link unpackTarLayer}.
 */
import { ArtifactErrorCode, globMatcher, unpack, type Fetcher } from '@ferry/artifact';
import {
  Annotation,
  EmptyJson,
  FerryError,
  MediaType,
  quote,
  type ImageManifest,
} from '@ferry/oci';
import type { ModelKind } from './media-types.js';
import type { ModelFile, ModelView } from './read.js';
import { isUnder, unpackTarLayer } from './tar-layer.js';

export interface SelectOptions {
  /** Only files of these kinds (`--only`). */
  only?: readonly ModelKind[] | undefined;
  /** Only paths matching one of these globs (`--include`; `**` crosses directories). */
  include?: readonly string[] | undefined;
}

/** The files a pull writes. A tar layer is kept when its path, or anything under it, matches. */
export function selectFiles(view: ModelView, options: SelectOptions = {}): ModelFile[] {
  const include = options.include?.length ? globMatcher([...options.include]) : undefined;
  const only = options.only?.length ? new Set(options.only) : undefined;
  return view.files.filter(
    (file) =>
      (!only || (file.kind !== undefined && only.has(file.kind))) &&
      (!include || include(file.path) || (file.packing !== 'raw' && include(`${file.path}/`))),
  );
}

export interface PullModelOptions {
  outputDir: string;
  keepOldFiles?: boolean | undefined;
  concurrency?: number | undefined;
  largeConcurrency?: number | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((file: ModelFile, bytes: number) => void) | undefined;
}

export interface PulledFile {
  file: ModelFile;
  /** What was written, relative to the output directory (several for a tar layer). */
  written: string[];
}

/** Writes `files` (from {@link selectFiles}) under `options.outputDir`. */
export async function pullModel(
  fetcher: Fetcher,
  files: readonly ModelFile[],
  options: PullModelOptions,
): Promise<PulledFile[]> {
  const raw = files.filter((file) => file.packing === 'raw');
  const archives = files.filter((file) => file.packing !== 'raw');
  // Single files go through unpack() under their model paths, as titles.
  const byTitle = new Map(raw.map((file) => [file.path, file]));
  if (byTitle.size !== raw.length) {
    const twice = raw.find((file, i) => raw.findIndex((f) => f.path === file.path) !== i);
    throw new FerryError(
      ArtifactErrorCode.DuplicateTitle,
      `two layers would be written to ${quote(twice?.path ?? '')}`,
    );
  }
  for (const archive of archives) {
    const inside = raw.find((file) => isUnder(file.path, archive.path) && archive.path !== '.');
    if (inside) {
      throw new FerryError(
        ArtifactErrorCode.DuplicateTitle,
        `layers ${quote(inside.path)} and ${quote(archive.path)} would be written one inside the other`,
      );
    }
  }
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: EmptyJson,
    layers: raw.map((file) => ({
      ...file.descriptor,
      annotations: { ...file.descriptor.annotations, [Annotation.Title]: file.path },
    })),
  };
  const unpacked = raw.length
    ? await unpack(manifest, fetcher, {
        outputDir: options.outputDir,
        keepOldFiles: options.keepOldFiles,
        concurrency: options.concurrency,
        largeConcurrency: options.largeConcurrency,
        signal: options.signal,
        onProgress: (title, bytes) => {
          const file = byTitle.get(title);
          if (file) options.onProgress?.(file, bytes);
        },
      })
    : [];
  const pulled: PulledFile[] = unpacked.map((u) => ({
    file: byTitle.get(u.title) as ModelFile,
    written: [u.title],
  }));
  // Archives one at a time: each may hold many files, and entries must not race each other.
  for (const archive of archives) {
    const written = await unpackTarLayer(
      fetcher,
      archive.descriptor,
      archive.path,
      archive.packing,
      {
        outputDir: options.outputDir,
        keepOldFiles: options.keepOldFiles,
        signal: options.signal,
        onProgress: (bytes) => options.onProgress?.(archive, bytes),
      },
    );
    pulled.push({ file: archive, written });
  }
  return pulled;
}
