import { FerryError, isDigest, type Descriptor } from '@ferry/oci';
import { canDelete, type Target } from '@ferry/artifact';
import type { ManifestDeleteArgs } from './args/manifest-push.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { printDescriptor } from './descriptor-output.js';
import { cancelled, confirm, resolveRoot, where } from './shared.js';
import { CliErrorCode } from '../errors.js';

/** Tags resolved to find those that go with a manifest; a repository with more is not walked. */
export const TAG_CHECK_LIMIT = 200;
const RESOLVE_CONCURRENCY = 8;

/**
 * The tags of the repository that point at `descriptor` (deleting a manifest removes them all),
 * looking at the first {@link TAG_CHECK_LIMIT}; `unchecked` counts the rest.
 */
export async function tagsPointingAt(
  target: Target,
  descriptor: Descriptor,
): Promise<{ tags: string[]; unchecked: number }> {
  const all = await target.tags();
  const checked = all.slice(0, TAG_CHECK_LIMIT);
  const found: string[] = [];
  let next = 0;
  const worker = async () => {
    for (let tag = checked[next++]; tag !== undefined; tag = checked[next++]) {
      const resolved = await target.resolve(tag).catch(() => undefined);
      if (resolved?.digest === descriptor.digest) found.push(tag);
    }
  };
  await Promise.all(Array.from({ length: Math.min(RESOLVE_CONCURRENCY, checked.length) }, worker));
  return {
    tags: checked.filter((tag) => found.includes(tag)),
    unchecked: all.length - checked.length,
  };
}

function question(display: string, descriptor: Descriptor, tags: string[], unchecked: number) {
  const list = tags.length
    ? ` Every tag pointing at it goes too: ${tags.join(', ')}.`
    : ' No tag points at it.';
  const more = unchecked ? ` (${unchecked} more tags were not checked.)` : '';
  return `Delete the manifest ${descriptor.digest} (${display})?${list}${more}`;
}

export async function run(context: Context, args: ManifestDeleteArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  const descriptor = await resolveRoot(ref, undefined, context);
  const { target } = ref;
  if (!canDelete(target))
    throw new FerryError(CliErrorCode.Unsupported, `${target.name} does not support deleting`);
  if (!args.force) {
    // A registry deletes the manifest, not a tag: say which other tags disappear with it.
    const { tags, unchecked } = await tagsPointingAt(ref.target, descriptor);
    const named = ref.reference && !isDigest(ref.reference) ? [ref.reference] : [];
    const shown = [...named, ...tags.filter((tag) => !named.includes(tag)).sort()];
    if (!(await confirm(context, question(ref.display, descriptor, shown, unchecked), false))) {
      cancelled(context);
      return;
    }
  }
  await target.delete(descriptor);
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
