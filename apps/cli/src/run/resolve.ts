import type { ResolveArgs } from './args/resolve.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { resolveRoot } from './shared.js';

export async function run(context: Context, args: ResolveArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  const descriptor = await resolveRoot(ref, args.platform, context);
  const full = `${ref.base}@${descriptor.digest}`;
  printResult(
    context,
    [args['full-reference'] ? full : descriptor.digest],
    descriptorJson(full, descriptor),
  );
}
