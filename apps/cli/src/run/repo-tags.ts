import type { RepoTagsArgs } from './args/repo.js';
import { openTarget, type Context } from '../context.js';
import { printResult } from '../output.js';

/** Tags of a referrers fallback index (`sha256-<64 hex>`), hidden by --exclude-digest-tags. */
const DIGEST_TAG = /^sha(?:256|512)-[0-9a-f]{64}$/;

export async function run(context: Context, args: RepoTagsArgs): Promise<void> {
  const ref = await openTarget(args.target, context);
  let tags = await ref.target.tags();
  if (args.last) tags = tags.filter((tag) => tag > (args.last ?? ''));
  if (args['exclude-digest-tags']) tags = tags.filter((tag) => !DIGEST_TAG.test(tag));
  printResult(context, tags, { reference: ref.base, tags });
}
