import { FerryError } from '@ferry/oci';
import type { ManifestArgs } from '../commands/manage.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { printDescriptor } from './descriptor-output.js';
import { confirm, resolveRoot, where } from './shared.js';

export async function run(context: Context, args: ManifestArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  const descriptor = await resolveRoot(ref, undefined, context);
  if (!ref.target.delete)
    throw new FerryError('ERR_UNSUPPORTED', `${ref.target.name} does not support deleting`);
  await confirm(context, `Delete the manifest ${descriptor.digest} of ${ref.display}?`, args.force);
  await ref.target.delete(descriptor);
  if (args.descriptor && context.args.format !== 'json') {
    printDescriptor(context, descriptor, args.pretty);
    return;
  }
  printResult(
    context,
    [`Deleted ${where(ref)} ${ref.display}`, `Digest: ${descriptor.digest}`],
    descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor),
  );
}
