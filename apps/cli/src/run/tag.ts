import { isValidTag } from '@ferry/oci';
import type { TagArgs } from './args/tag.js';
import { openTarget, type Context } from '../context.js';
import { UsageError } from '../exit.js';
import { descriptorJson, printResult, printStatus } from '../output.js';
import { runLimited } from './descriptor-output.js';
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
  // Up to --concurrency at once; the status lines keep the order the tags were given in.
  const done = args.tags.map(() => false);
  let printed = 0;
  await runLimited(
    args.tags.map((tag, index) => async () => {
      await ref.target.tag(descriptor, tag);
      done[index] = true;
      while (printed < args.tags.length && done[printed]) {
        printStatus(context, 'Tagged', args.tags[printed] ?? '');
        printed++;
      }
    }),
    args.concurrency,
  );
  printResult(
    context,
    [`Digest: ${descriptor.digest}`],
    descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor, { tags: args.tags }),
  );
}
