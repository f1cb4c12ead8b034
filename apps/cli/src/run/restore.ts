/**
 * `ferry restore`: the tags of a backup (an OCI layout directory, or a tar of one) pushed to a
 * repository with their blobs and, unless excluded, their referrers. Digests are unchanged: the
 * bytes of every manifest are pushed as stored. What the repository holds already is skipped,
 * so an interrupted restore picks up where it stopped when run again.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { copy, extractLayoutArchive, OciLayoutTarget, type Target } from '@ferry/artifact';
import { isDigest, isValidTag, NotFoundError, quote, type Descriptor } from '@ferry/oci';
import type { RestoreArgs } from './args/backup.js';
import { openTarget, type Context } from '../context.js';
import { UsageError } from '../exit.js';
import { printResult } from '../output.js';
import { Progress } from '../progress.js';
import { reportCopyEvents } from './progress-events.js';

/** Referrers of `root` (and of an index's manifests), recursively, each counted once. */
async function countReferrers(layout: Target, root: Descriptor): Promise<number> {
  const seen = new Set<string>([root.digest]);
  const queue = [root];
  let count = 0;
  while (queue.length) {
    const node = queue.shift() as Descriptor;
    for (const referrer of await layout.referrers(node)) {
      if (seen.has(referrer.digest)) continue;
      seen.add(referrer.digest);
      count++;
      queue.push(referrer);
    }
  }
  return count;
}

export async function run(context: Context, args: RestoreArgs): Promise<void> {
  if (args.reference.includes('@')) {
    throw new UsageError(
      `${args.reference}: restore takes tags, not digests: registry/repository[:tag[,tag…]]`,
    );
  }
  const info = await stat(args.input).catch(() => undefined);
  if (!info) throw new UsageError(`--input ${args.input}: no such file or directory`);
  if (!info.isFile() && !info.isDirectory()) {
    throw new UsageError(`--input ${args.input} must be a directory or a .tar file`);
  }
  let extracted: string | undefined;
  try {
    let layoutDir = resolvePath(args.input);
    if (info.isFile()) {
      // Beside the tar, where there is room for what it holds (a tmpfs /tmp may not have it);
      // in the temporary directory when the tar's directory is read-only.
      extracted = await mkdtemp(join(dirname(resolvePath(args.input)), '.ferry-restore-')).catch(
        () => mkdtemp(join(tmpdir(), 'ferry-restore-')),
      );
      await extractLayoutArchive(args.input, extracted);
      layoutDir = extracted;
    }
    const layout = await OciLayoutTarget.open(layoutDir, { create: false });
    await restore(context, args, layout);
  } finally {
    if (extracted) await rm(extracted, { recursive: true, force: true });
  }
}

async function restore(context: Context, args: RestoreArgs, layout: OciLayoutTarget) {
  const ref = await openTarget(args.reference, context, { layout: false });
  const listed = await layout.tags();
  // A backup's index.json may name anything: only valid tags are restored; the rest, escaped.
  const invalid = listed.filter((tag) => !isValidTag(tag));
  if (invalid.length) {
    context.io.stderr(
      `Warning: skipping ${invalid.length} name(s) in the backup that are not valid tags: ${invalid
        .slice(0, 5)
        .map((tag) => quote(tag, 80))
        .join(', ')}\n`,
    );
  }
  const available = listed.filter((tag) => isValidTag(tag));
  const named = [
    ...(ref.reference && !isDigest(ref.reference) ? [ref.reference] : []),
    ...ref.extraTags,
  ];
  for (const tag of named) {
    if (!available.includes(tag)) {
      throw new NotFoundError(
        `tag ${tag} is not in the backup ${args.input} (it has: ${available.join(', ') || 'no tags'})`,
      );
    }
  }
  const tags = named.length ? named : available;
  if (tags.length === 0) {
    throw new NotFoundError(
      `no tags found in the OCI layout ${args.input}; list them with: ferry repo tags --oci-layout ${args.input}`,
    );
  }
  const text = (line: string) => {
    if (context.args.format !== 'json') context.io.stdout(`${line}\n`);
  };
  text(`Found ${tags.length} tag(s) in ${args.input}: ${tags.join(', ')}`);
  const results: { tag: string; descriptor: Descriptor; referrers: number }[] = [];
  const progress = Progress.forTerminal(args.tty);
  try {
    for (const tag of tags) {
      const root = await layout.resolve(tag);
      const referrers = args['exclude-referrers'] ? 0 : await countReferrers(layout, root);
      if (!args['dry-run']) {
        await copy(layout, ref.target, tag, {
          tags: [tag],
          referrers: !args['exclude-referrers'],
          concurrency: args.concurrency,
          onEvent: reportCopyEvents(context, progress, { start: 'Uploading', done: 'Uploaded' }),
        });
      }
      results.push({ tag, descriptor: root, referrers });
      text(`${args['dry-run'] ? 'Would push' : 'Pushed'} tag ${tag} and ${referrers} referrer(s)`);
    }
  } finally {
    progress.stop();
  }
  printResult(
    context,
    [
      args['dry-run']
        ? `Dry run: would restore ${tags.length} tag(s) to ${ref.base}`
        : `Successfully restored ${tags.length} tag(s) to ${ref.base}`,
    ],
    {
      reference: ref.base,
      input: args.input,
      dryRun: args['dry-run'] ?? false,
      tags: results.map(({ tag, descriptor, referrers }) => ({
        tag,
        reference: `${ref.base}@${descriptor.digest}`,
        mediaType: descriptor.mediaType,
        digest: descriptor.digest,
        size: descriptor.size,
        referrers,
      })),
    },
  );
}
