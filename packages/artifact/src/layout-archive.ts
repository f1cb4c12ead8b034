/**
 * An OCI image layout as one tar file (what `backup --output x.tar` writes and `restore --input
 * x.tar` reads): `oci-layout`, `index.json` and `blobs/<alg>/<hex>` at the archive's root, as
 * ORAS and skopeo's oci-archive write it. Written through a temporary file beside the target,
 * fsync'ed and renamed; read by extracting only those names, as regular files, into a directory
 * (the layout target then checks every blob's digest as it is read).
 */
import { close, createReadStream, createWriteStream, fsync, open as openFile } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { Writable } from 'node:stream';
import { FerryError, isDigest } from '@ferry/oci';
import { extract as tarExtract, pack as tarPack, type ExtractEvents } from 'tar-stream';

/** An entry's contents as tar-stream gives them (a streamx Readable). */
type EntryStream = ExtractEvents['entry'][1];
import { ArtifactErrorCode } from './errors.js';
import { whenDrained } from './tar-create.js';

const LAYOUT_NAME =
  /^(?:\.\/)?(oci-layout|index\.json|blobs\/(sha256|sha512)\/([0-9a-f]{64,128}))$/;
const DIRECTORY_NAME = /^(?:\.\/)?(?:\.|blobs|blobs\/(?:sha256|sha512))\/?$/;

/** Writes the layout in `dir` as a tar at `path`; `path` appears only complete and fsync'ed. */
export async function archiveLayout(dir: string, path: string): Promise<number> {
  const files: string[] = ['oci-layout', 'index.json'];
  const algorithms = (await readdir(join(dir, 'blobs')).catch(() => [])).sort();
  for (const algorithm of algorithms) {
    const names = (await readdir(join(dir, 'blobs', algorithm))).sort();
    for (const hex of names) {
      if (isDigest(`${algorithm}:${hex}`)) files.push(`blobs/${algorithm}/${hex}`);
    }
  }
  const temporary = join(dirname(path), `.${basename(path)}.ferry-${process.pid}.partial`);
  const pack = tarPack();
  const written = (async () => {
    // A bare fd, not a FileHandle's: a failed write destroys the stream, which closes the fd
    // even with autoClose off, and a FileHandle's own close then failed with EBADF in place of
    // the write's error. On success the fd stays open to be fsync'ed.
    const fd = await promisify(openFile)(temporary, 'w');
    await pipeline(pack, createWriteStream('', { fd, autoClose: false }));
    try {
      await promisify(fsync)(fd);
    } finally {
      await promisify(close)(fd);
    }
  })();
  // An output that cannot be opened or written (a full disk) must end the entries below: they
  // would wait forever for the pack to drain. Its error is then the one to report.
  let outputError: unknown;
  written.catch((failure: unknown) => {
    outputError = failure;
    pack.destroy();
  });
  try {
    const directories = new Set<string>();
    for (const name of files) {
      const parent = dirname(name);
      for (const directory of parent === '.' ? [] : ['blobs', parent]) {
        if (directories.has(directory)) continue;
        directories.add(directory);
        await entry(pack, { name: `${directory}/`, type: 'directory', mode: 0o755 });
      }
      const info = await stat(join(dir, name));
      await entry(
        pack,
        { name, type: 'file', mode: 0o644, size: info.size, mtime: new Date(0) },
        join(dir, name),
      );
    }
    pack.finalize();
    await written;
    await rename(temporary, path);
  } catch (error) {
    // Taken before the destroy below, which fails the output too (a failed entry is the reason).
    const failedOutput = outputError;
    pack.destroy();
    await written.catch(() => {});
    await rm(temporary, { force: true });
    // A write through the fd names no path; with the temporary's, the CLI names the output.
    if (failedOutput instanceof Error && 'syscall' in failedOutput && !('path' in failedOutput))
      Object.assign(failedOutput, { path: temporary });
    throw failedOutput ?? error;
  }
  const directory = await open(dirname(path), 'r').catch(() => undefined);
  if (directory) {
    await directory.sync().catch(() => {});
    await directory.close();
  }
  return (await stat(path)).size;
}

async function entry(
  pack: ReturnType<typeof tarPack>,
  header: Parameters<ReturnType<typeof tarPack>['entry']>[0],
  file?: string,
): Promise<void> {
  let sink: Writable | undefined;
  const done = new Promise<void>((resolve, reject) => {
    // A streamx Writable: it writes, drains and ends as node's does, but its types lack node's
    // `writable…` members and make `end()` take an argument.
    sink = pack.entry({ mtime: new Date(0), uid: 0, gid: 0, ...header }, (error) =>
      error ? reject(error) : resolve(),
    ) as unknown as Writable;
  });
  done.catch(() => {});
  // A destroyed pack destroys its entry with the error too; `done` carries it, and an 'error'
  // event without a listener would be an uncaught exception.
  sink?.on('error', () => {});
  if (file && sink) {
    for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
      if (!sink.write(chunk)) await whenDrained(sink);
    }
    sink.end();
  }
  await done;
}

/**
 * Extracts the layout in the tar at `path` into `dir` (which must exist and be empty). Anything
 * but the layout's own files and directories is refused, naming the entry: a backup holds no
 * other names, and a link or `..` could write outside `dir`.
 */
export async function extractLayoutArchive(path: string, dir: string): Promise<void> {
  const extractor = tarExtract();
  let sawIndex = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  const add = async (name: string, type: string | null | undefined, body: EntryStream) => {
    if (type === 'directory' && DIRECTORY_NAME.test(name)) {
      body.resume();
      return;
    }
    const match = LAYOUT_NAME.exec(name);
    if (!match || type !== 'file') {
      body.resume();
      throw new FerryError(
        ArtifactErrorCode.LayoutInvalid,
        `${path}: entry ${JSON.stringify(name)} (${String(type)}) is not part of an OCI image layout`,
      );
    }
    if (match[1] === 'index.json') sawIndex = true;
    const target = join(dir, match[1] ?? '');
    await mkdir(dirname(target), { recursive: true });
    await pipeline(body, createWriteStream(target, { flags: 'wx' }));
  };
  extractor.on('entry', (header, stream, next) => {
    inFlight = add(header.name, header.type, stream).then(
      () => next(),
      (error: unknown) => next(error as Error),
    );
  });
  try {
    await pipeline(createReadStream(path), extractor);
  } catch (error) {
    await inFlight.catch(() => {});
    if (error instanceof FerryError) throw error;
    throw new FerryError(
      ArtifactErrorCode.LayoutInvalid,
      `${path} is not a readable tar archive: ${(error as Error).message}`,
      { cause: error },
    );
  }
  await inFlight;
  if (!sawIndex) {
    throw new FerryError(
      ArtifactErrorCode.LayoutInvalid,
      `${path} holds no OCI image layout (no index.json)`,
    );
  }
}
