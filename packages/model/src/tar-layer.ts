/**
 * Tar layers of models (KitOps ModelKits, modctl's tar packing, Docker's directory archives):
 * an archive whose entries are named by their path in the model (`models/llama.gguf`,
 * `models/`, `models/shard-1.bin`). Every entry is checked as `ferry pull` checks titles (no
 * absolute paths, no `..` out of the output directory, no symbolic-link parents that lead out of
 * it), must lie under the layer's own path, and may only be a file or a directory. Files are
 * written to temp files beside their final paths and renamed only once the whole layer's digest
 * has verified; on any failure the temp files are removed.
 */
import { randomBytes } from 'node:crypto';
import { lstat, open, rename, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import {
  assertNoSymlinkEscape,
  resolveTitlePath,
  UNSAFE_ARCHIVE,
  type Fetcher,
} from '@ferry/artifact';
import { DigestTransform, ErrorCode, FerryError, quote, type Descriptor } from '@ferry/oci';
import { makeDirectory } from '@ferry/registry';
import { extract as tarExtract, type ExtractEvents, type Header } from 'tar-stream';

/** An entry's contents as tar-stream gives them (a streamx Readable). */
type EntryStream = ExtractEvents['entry'][1];
import type { Packing } from './media-types.js';
import { ModelErrorCode } from './errors.js';

export interface TarLayerOptions {
  outputDir: string;
  keepOldFiles?: boolean | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((bytes: number) => void) | undefined;
}

function unsafe(entry: string, problem: string): FerryError {
  return new FerryError(UNSAFE_ARCHIVE, `unsafe archive entry ${quote(entry)}: ${problem}`);
}

/** `./a//b/` → `a/b`; refuses NUL, backslashes and `..`. */
export function entryPath(name: string): string {
  if (name.includes('\0') || name.includes('\\'))
    throw unsafe(name, 'contains a NUL or a backslash');
  if (name.startsWith('/')) throw unsafe(name, 'is an absolute path');
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw unsafe(name, 'contains a ".." segment');
  return segments.join('/');
}

/** True when `entry` is `layerPath` or lies beneath it (`.` holds everything). */
export function isUnder(entry: string, layerPath: string): boolean {
  const base = entryPath(layerPath);
  return base === '' || entry === base || entry.startsWith(`${base}/`);
}

function decompressor(packing: Packing, layer: string): Writable[] {
  if (packing === 'tar') return [];
  if (packing === 'tar+gzip') return [zlib.createGunzip()];
  // Node.js 22.15 added zstd; the @types/node this builds against (20) does not declare it.
  const zstd = (zlib as typeof zlib & { createZstdDecompress?: () => Writable })
    .createZstdDecompress;
  if (packing === 'tar+zstd' && zstd) return [zstd()];
  throw new FerryError(
    ModelErrorCode.UnsupportedLayer,
    `${quote(layer)} is compressed with zstd, which this Node.js cannot read (Node.js 22.15 or later can)`,
  );
}

const partial = (target: string) =>
  path.join(
    path.dirname(target),
    `.${path.basename(target).slice(0, 100)}.ferry-${randomBytes(6).toString('hex')}.partial`,
  );

/** Fetches, verifies and extracts one tar layer under `options.outputDir`; returns the files written. */
export async function unpackTarLayer(
  fetcher: Fetcher,
  descriptor: Descriptor,
  layerPath: string,
  packing: Packing,
  options: TarLayerOptions,
): Promise<string[]> {
  const root = path.resolve(options.outputDir);
  const stages = decompressor(packing, layerPath);
  const pending: { temp: string; target: string; entry: string }[] = [];
  const seen = new Set<string>();
  const extractor = tarExtract();
  let inFlight: Promise<unknown> = Promise.resolve();
  const add = async (header: Header, stream: EntryStream) => {
    const entry = entryPath(header.name);
    if (!isUnder(entry, layerPath)) {
      throw unsafe(header.name, `lies outside the layer's path ${quote(layerPath)}`);
    }
    if (seen.has(entry)) throw unsafe(header.name, 'appears twice');
    seen.add(entry);
    if (header.type === 'directory') {
      stream.resume();
      if (entry === '') return;
      const target = resolveTitlePath(root, entry);
      await assertNoSymlinkEscape(root, target, entry);
      await makeDirectory(target);
      return;
    }
    if (header.type !== 'file' && header.type !== 'contiguous-file') {
      throw unsafe(header.name, `${String(header.type)} entries are not allowed in a model layer`);
    }
    const target = resolveTitlePath(root, entry);
    await assertNoSymlinkEscape(root, target, entry);
    await makeDirectory(path.dirname(target));
    const temp = partial(target);
    pending.push({ temp, target, entry });
    const handle = await open(temp, 'wx', header.mode && header.mode & 0o111 ? 0o755 : 0o644);
    if (stream.destroyed) {
      // pipeline() on a stream destroyed meanwhile (an abort) would wait forever.
      await handle.close();
      throw unsafe(header.name, 'the archive stopped before its contents');
    }
    await pipeline(stream, handle.createWriteStream());
    // On disk before it is renamed into place (the write stream closed the handle).
    const synced = await open(temp, 'r+');
    try {
      await synced.sync();
    } finally {
      await synced.close();
    }
  };
  extractor.on('entry', (header, stream, next) => {
    inFlight = add(header, stream).then(
      () => next(),
      (error: unknown) => next(error as Error),
    );
  });
  try {
    const source = await fetcher.fetch(descriptor, { signal: options.signal });
    const verify = new DigestTransform({
      expectedDigest: descriptor.digest,
      expectedSize: descriptor.size,
      subject: layerPath,
    });
    const report = options.onProgress;
    const progress = report
      ? [
          new Transform({
            transform(chunk: Buffer, _encoding, callback) {
              report(chunk.byteLength);
              callback(null, chunk);
            },
          }),
        ]
      : [];
    try {
      await pipeline(
        [source, verify, ...progress, ...stages, extractor],
        options.signal ? { signal: options.signal } : {},
      );
    } finally {
      await inFlight.catch(() => {});
    }
    // The layer verified: the files take their places.
    for (const { target, entry } of options.keepOldFiles ? pending : []) {
      if (
        await lstat(target).then(
          () => true,
          () => false,
        )
      ) {
        throw new FerryError(
          ErrorCode.FileExists,
          `${quote(entry)} would overwrite ${target}; remove it, or pull without -k/--keep-old-files`,
        );
      }
    }
    for (const { temp, target } of pending) await rename(temp, target);
    return pending.map((p) => p.entry);
  } catch (error) {
    await Promise.all(pending.map((p) => rm(p.temp, { force: true })));
    throw error;
  }
}
