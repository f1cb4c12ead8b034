import { cacheParallelDownloads, copy } from '@ferry/artifact';
import { isDigest } from '@ferry/oci';
import type { CopyArgs } from './args/copy.js';
import { openTarget, type Context } from '../context.js';
import { UsageError } from '../exit.js';
import { descriptorJson, printResult } from '../output.js';
import { Progress } from '../progress.js';
import { reportCopyEvents } from './progress-events.js';
import { openCache } from './cache.js';
import { where } from './shared.js';

export async function run(context: Context, args: CopyArgs): Promise<void> {
  const layout = context.args['oci-layout'];
  // Each end gets its own flag credentials and no other: -u/-p are the destination's, as in ORAS.
  const source = await openTarget(args.from, context, {
    layout: args['from-oci-layout'] ?? layout,
    credentials: 'from',
    layoutFlag: '--from-oci-layout',
  });
  const destination = await openTarget(args.to, context, {
    layout: args['to-oci-layout'] ?? layout,
    create: true,
    credentials: 'to',
    layoutFlag: '--to-oci-layout',
  });
  if (!source.reference) throw new UsageError(`${source.display} needs a tag or digest to copy`);
  if (destination.reference && isDigest(destination.reference)) {
    throw new UsageError(
      `copy to a tag, not a digest: the digest of ${destination.display} is the source's`,
    );
  }
  // Like ORAS: with no destination tag, the source's tag (if it has one) is used.
  const first =
    destination.reference ?? (isDigest(source.reference) ? undefined : source.reference);
  const tags = [...(first ? [first] : []), ...destination.extraTags];
  const progress = Progress.forTerminal(args.tty);
  try {
    // A blob large enough for parallel ranges is fetched into the download cache (where the
    // ranges are written and resumed from), then read from there; others stream straight across.
    const cache = source.target.resumable ? await openCache(context, args['cache-dir']) : undefined;
    const from = cache ? cacheParallelDownloads(source.target, cache) : source.target;
    const root = await copy(from, destination.target, source.reference, {
      concurrency: args.concurrency,
      referrers: args.recursive,
      platform: args.platform,
      tags,
      onEvent: reportCopyEvents(context, progress, { start: 'Copying', done: 'Copied' }),
    });
    const shown = tags[0] ? `${destination.base}:${tags[0]}` : `${destination.base}@${root.digest}`;
    printResult(
      context,
      [
        `Copied ${where(source)} ${source.display} => ${where(destination)} ${shown}`,
        `Digest: ${root.digest}`,
      ],
      descriptorJson(`${destination.base}@${root.digest}`, root, { tags }),
    );
  } finally {
    progress.stop();
  }
}
