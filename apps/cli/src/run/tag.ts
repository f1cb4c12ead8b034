import { isValidTag } from '@ferry/oci';
import type { TagArgs } from '../commands/artifacts.js';
import { openTarget, type Context } from '../context.js';
import { UsageError } from '../exit.js';
import { descriptorJson, printResult, printStatus } from '../output.js';
import { resolveRoot } from './shared.js';

export async function run(context: Context, args: TagArgs): Promise<void> {
  for (const tag of args.tags) {
    if (!isValidTag(tag))
      throw new UsageError(
        `invalid tag ${JSON.stringify(tag)}: up to 128 of [A-Za-z0-9_.-], not starting with . or -`,
      );
  }
  const ref = await openTarget(args.reference, context);
  const descriptor = await resolveRoot(ref, undefined, context);
  for (const tag of args.tags) {
    await ref.target.tag(descriptor, tag);
    printStatus(context, 'Tagged', tag);
  }
  printResult(
    context,
    [`Digest: ${descriptor.digest}`],
    descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor, { tags: args.tags }),
  );
}
