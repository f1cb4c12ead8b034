/** Bottle tarballs and `brew bottle --json` files written for tests, deterministic to the byte. */
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

export interface WrittenTarball {
  path: string;
  fileName: string;
  sha256: string;
  size: number;
  tarSha256: string;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** `<name>/<version>/INSTALL_RECEIPT.json` (when given) and a `bin/<name>` script, gzipped. */
export async function writeTarball(
  dir: string,
  fileName: string,
  name: string,
  version: string,
  receipt?: Record<string, unknown>,
): Promise<WrittenTarball> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (chunk: unknown) => void chunks.push(chunk as Buffer));
  const done = new Promise<void>((resolve) => tar.on('end', () => resolve()));
  const mtime = new Date(0);
  if (receipt) {
    tar.entry({ name: `${name}/${version}/INSTALL_RECEIPT.json`, mtime }, JSON.stringify(receipt));
  }
  tar.entry({ name: `${name}/${version}/bin/${name}`, mode: 0o755, mtime }, '#!/bin/sh\necho hi\n');
  tar.finalize();
  await done;
  const gz = gzipSync(Buffer.concat(chunks));
  const path = join(dir, fileName);
  await writeFile(path, gz);
  return {
    path,
    fileName,
    sha256: sha256(gz),
    size: gz.byteLength,
    tarSha256: sha256(gunzipSync(gz)),
  };
}
