import { canDelete } from '@ferry/artifact';
import { FerryError } from '@ferry/oci';
import type { BlobDeleteArgs } from './args/blob.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { blobDescriptor, blobDigest } from './blob-shared.js';
import { cancelled, confirm, where } from './shared.js';
import { CliErrorCode } from '../errors.js';

export async function run(context: Context, args: BlobDeleteArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  const descriptor = await blobDescriptor(ref, blobDigest(ref));
  const { target } = ref;
  if (!canDelete(target))
    throw new FerryError(CliErrorCode.Unsupported, `${target.name} does not support deleting`);
  if (
    !(await confirm(context, `Delete the blob ${descriptor.digest} from ${ref.base}?`, args.force))
  ) {
    cancelled(context);
    return;
  }
  await target.delete(descriptor);
  printResult(
    context,
    [`Deleted ${where(ref)} ${ref.base}@${descriptor.digest}`],
    descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor),
  );
}
