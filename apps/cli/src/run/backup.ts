/**
 * `ferry backup`: tags of a repository, with every blob (and, when asked, their referrers), into
 * an OCI image layout directory or a tar of one. A tar is assembled in a staging layout beside it
 * that survives a failure, so that running the same command again fetches only what is missing
 * (as an interrupted copy into a layout does); the tar then appears whole, fsync'ed, at its path.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { archiveLayout, copy, OciLayoutTarget } from '@ferry/artifact';
import { isDigest, isValidTag, quote, type Descriptor } from '@ferry/oci';
import type { BackupArgs } from './args/backup.js';
import { openTarget, type Context } from '../context.js';
import { UsageError } from '../exit.js';
import { printResult } from '../output.js';
import { Progress } from '../progress.js';
import { reportCopyEvents } from './progress-events.js';

/** `sha256-<hex>`: the referrers tag schema's index, not a tag anyone backs up on purpose. */
const REFERRERS_TAG = /^(sha256|sha512)-[0-9a-f]{64,128}$/;

export function isArchivePath(path: string): boolean {
  return path.endsWith('.tar'); // as ORAS: case matters
}

export async function run(context: Context, args: BackupArgs): Promise<void> {
  if (args.reference.includes('@')) {
    throw new UsageError(
      `${args.reference}: backup takes tags, not digests: registry/repository[:tag[,tag…]]`,
    );
  }
  const ref = await openTarget(args.reference, context, { layout: false });
  const named = [
    ...(ref.reference && !isDigest(ref.reference) ? [ref.reference] : []),
    ...ref.extraTags,
  ];
  const listed = named.length ? [] : await ref.target.tags();
  // A registry's list is not trusted to hold only tags: anything else is skipped, shown escaped.
  const invalid = listed.filter((tag) => !isValidTag(tag));
  if (invalid.length) {
    context.io.stderr(
      `Warning: skipping ${invalid.length} listed name(s) that are not valid tags: ${invalid
        .slice(0, 5)
        .map((tag) => quote(tag, 80))
        .join(', ')}\n`,
    );
  }
  const tags = named.length
    ? named
    : listed.filter((tag) => isValidTag(tag) && !REFERRERS_TAG.test(tag));
  if (tags.length === 0) {
    throw new UsageError(`${ref.base} has no tags to back up; name some: ${ref.base}:v1,v2`);
  }
  const text = (line: string) => {
    if (context.args.format !== 'json') context.io.stdout(`${line}\n`);
  };
  text(`Found ${tags.length} tag(s) in ${ref.base}: ${tags.join(', ')}`);

  const archive = isArchivePath(args.output);
  const output = resolvePath(args.output);
  const layoutDir = archive ? join(dirname(output), `.${basename(output)}.ferry-backup`) : output;
  const stagedBefore = archive && (await exists(layoutDir));
  const layout = await OciLayoutTarget.open(layoutDir, { create: true });
  const results: { tag: string; descriptor: Descriptor; referrers: number }[] = [];
  const progress = Progress.forTerminal(args.tty);
  try {
    for (const tag of tags) {
      const root = await copy(ref.target, layout, tag, {
        tags: [tag],
        referrers: args['include-referrers'] ?? false,
        concurrency: args.concurrency,
        onEvent: reportCopyEvents(context, progress, { start: 'Pulling', done: 'Pulled' }),
      });
      const referrers = args['include-referrers'] ? (await layout.referrers(root)).length : 0;
      results.push({ tag, descriptor: root, referrers });
      text(`Pulled tag ${tag} and ${referrers} referrer(s)`);
    }
  } catch (error) {
    if (archive) await keepOrDropStaging(context, layoutDir, stagedBefore);
    throw error;
  } finally {
    progress.stop();
  }
  let size: number | undefined;
  if (archive) {
    text(`Exporting to ${args.output}`);
    size = await archiveLayout(layoutDir, output);
    await rm(layoutDir, { recursive: true, force: true });
    text(`Exported to ${args.output} (${size} bytes)`);
  }
  printResult(
    context,
    [`Successfully backed up ${tags.length} tag(s) from ${ref.base} to ${args.output}`],
    {
      reference: ref.base,
      output: args.output,
      format: archive ? 'tar' : 'directory',
      ...(size !== undefined ? { size } : {}),
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

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined)) !== undefined;
}

/**
 * After a failed tar backup: a staging layout this run made and fetched no blob into is removed;
 * one that holds blobs stays for the next run (which fetches only what is missing), and the user
 * is told where it is, so a hidden directory does not grow unnoticed.
 */
async function keepOrDropStaging(
  context: Context,
  layoutDir: string,
  stagedBefore: boolean,
): Promise<void> {
  const blobs = await readdir(join(layoutDir, 'blobs'), { recursive: true, withFileTypes: true })
    .then((entries) => entries.filter((entry) => entry.isFile()).length)
    .catch(() => 0);
  if (blobs === 0 && !stagedBefore) {
    await rm(layoutDir, { recursive: true, force: true });
    return;
  }
  context.io.stderr(
    `Note: ${blobs} blob(s) fetched so far are kept in ${quote(layoutDir, 200)}: run the same command again to go on from there, or delete that directory\n`,
  );
}
