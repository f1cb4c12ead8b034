import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  DigestMismatchError,
  DigestTransform,
  digestStream,
  isDigest,
  SizeMismatchError,
  type Descriptor,
} from '@ferry/oci';
import type { BlobPushArgs } from './args/blob.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { printDescriptor } from './descriptor-output.js';
import { where } from './shared.js';

export async function run(context: Context, args: BlobPushArgs): Promise<void> {
  const file = args.file ?? '-';
  const mediaType = args['media-type'] ?? 'application/octet-stream';
  const ref = await openTarget(args.reference, context, { create: true });
  let staging: string | undefined;
  try {
    let path = file;
    let digest: string;
    let size: number;
    if (file === '-') {
      // Stdin is staged (and hashed on the way) so that an upload the registry drops half-way
      // can start again, and so that an existing blob is not sent at all.
      staging = await mkdtemp(join(tmpdir(), 'ferry-blob-'));
      path = join(staging, 'stdin');
      const hash = new DigestTransform();
      await pipeline(process.stdin, hash, createWriteStream(path));
      digest = hash.digest();
      size = hash.size;
    } else {
      ({ digest, size } = await digestStream(
        createReadStream(path, { highWaterMark: 1024 * 1024 }),
      ));
    }
    if (args.size !== undefined && args.size !== size)
      throw new SizeMismatchError(args.size, size, file);
    const descriptor = { mediaType, digest, size } as Descriptor;
    if (ref.reference && isDigest(ref.reference) && ref.reference !== descriptor.digest) {
      throw new DigestMismatchError(ref.reference, descriptor.digest, file);
    }
    const source = path;
    if (!(await ref.target.exists(descriptor))) {
      await ref.target.push(descriptor, () =>
        createReadStream(source, { highWaterMark: 1024 * 1024 }),
      );
    }
    if (args.descriptor && context.args.format !== 'json') {
      printDescriptor(context, descriptor, args.pretty);
      return;
    }
    printResult(
      context,
      [`Pushed ${where(ref)} ${ref.base}`, `Digest: ${descriptor.digest}`],
      descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor),
    );
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true });
  }
}
