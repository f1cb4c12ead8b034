import { RegistryTarget } from '@ferry/artifact';
import { digestStream, FerryError, isDigest, SizeMismatchError, type Descriptor } from '@ferry/oci';
import type { BlobArgs } from '../commands/manage.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { openInput, where } from './shared.js';

export async function run(context: Context, args: BlobArgs): Promise<void> {
  const file = args.file ?? '-';
  const mediaType = args['media-type'] ?? 'application/octet-stream';
  const ref = await openTarget(args.reference, context, { create: true });
  const open = openInput(file);
  let descriptor: Descriptor;
  if (file === '-') {
    // Stdin can be read once: stream it to the registry, hashing on the way.
    if (!(ref.target instanceof RegistryTarget)) {
      throw new FerryError(
        'ERR_UNSUPPORTED',
        'pushing a blob from stdin needs a registry target; save it to a file first',
      );
    }
    const result = await ref.target.repository.blobs.push(
      open,
      { size: args.size },
      { replayable: false },
    );
    descriptor = { mediaType, digest: result.digest, size: result.size };
  } else {
    const { digest, size } = await digestStream(open());
    if (args.size !== undefined && args.size !== size)
      throw new SizeMismatchError(args.size, size, file);
    descriptor = { mediaType, digest, size };
    if (!(await ref.target.exists(descriptor))) await ref.target.push(descriptor, open);
  }
  if (ref.reference && isDigest(ref.reference) && ref.reference !== descriptor.digest) {
    throw new FerryError(
      'ERR_DIGEST_MISMATCH',
      `${file} has digest ${descriptor.digest}, not ${ref.reference} as the reference says`,
    );
  }
  printResult(
    context,
    [`Pushed ${where(ref)} ${ref.base}`, `Digest: ${descriptor.digest}`],
    descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor),
  );
}
