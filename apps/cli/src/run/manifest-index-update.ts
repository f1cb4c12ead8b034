import { editIndex, fetchManifest, resolveIndexSource, type Target } from '@ferry/artifact';
import { FerryError, isDigest, isValidTag, type Descriptor, type ImageIndex } from '@ferry/oci';
import type { IndexUpdateArgs } from './args/manifest-index.js';
import { openTarget, type Context } from '../context.js';
import { UsageError } from '../exit.js';
import { printResult, printStatus } from '../output.js';
import { parseAnnotations } from './publish.js';
import { deliverIndex, fetchedLine } from './index-shared.js';
import { CliErrorCode } from '../errors.js';

export async function run(context: Context, args: IndexUpdateArgs): Promise<void> {
  const remove = args.remove ?? [];
  for (const digest of remove) {
    if (!isDigest(digest))
      throw new UsageError(`--remove ${digest}: give a manifest digest (sha256:…)`);
  }
  for (const tag of args.tag ?? []) {
    if (!isValidTag(tag)) {
      throw new UsageError(
        `--tag ${JSON.stringify(tag)}: up to 128 of [A-Za-z0-9_.-], not starting with . or -`,
      );
    }
  }
  const annotations = parseAnnotations(args.annotation);
  const changes =
    (args.add?.length ?? 0) +
    (args.merge?.length ?? 0) +
    remove.length +
    Object.keys(annotations).length +
    (args['artifact-type'] !== undefined ? 1 : 0);
  if (changes === 0) {
    printResult(context, ['Nothing to update as no change is requested'], { updated: false });
    return;
  }
  const toStdout = args.output === '-';
  const statusContext = toStdout
    ? { ...context, args: { ...context.args, format: 'json' as const } }
    : context;
  const ref = await openTarget(args.reference, context);
  if (!ref.reference) {
    throw new UsageError(
      `${ref.display} needs the tag or digest of the index, e.g. ${ref.display}:v1`,
    );
  }
  printStatus(statusContext, 'Fetching', ref.reference);
  const current = await fetchIndex(ref.target, ref.reference);
  fetchedLine(statusContext, 'Fetched', ref.reference, current.descriptor.digest);

  const add: Descriptor[] = [];
  for (const source of args.add ?? []) {
    printStatus(statusContext, 'Fetching', source);
    const { descriptor } = await resolveIndexSource(ref.target, source);
    fetchedLine(statusContext, 'Fetched', source, descriptor.digest);
    add.push(descriptor);
  }
  const merge: { source: string; descriptor: Descriptor; index: ImageIndex }[] = [];
  for (const source of args.merge ?? []) {
    printStatus(statusContext, 'Fetching', source);
    const other = await fetchIndex(ref.target, source);
    fetchedLine(statusContext, 'Fetched', source, other.descriptor.digest);
    merge.push({ source, ...other });
  }
  const built = editIndex(
    current.index,
    {
      add,
      remove,
      merge: merge.map((m) => m.index),
      annotations,
      artifactType: args['artifact-type'],
    },
    ref.display,
  );
  for (const digest of remove) printStatus(statusContext, 'Removed', digest);
  for (const [i, entry] of add.entries()) {
    fetchedLine(statusContext, 'Added', args.add?.[i] ?? entry.digest, entry.digest);
  }
  for (const { source, descriptor } of merge) {
    fetchedLine(statusContext, 'Merged', source, descriptor.digest);
  }
  printStatus(statusContext, 'Updated', built.descriptor.digest);
  const tags = [
    ...(isDigest(ref.reference) ? [] : [ref.reference]),
    ...ref.extraTags,
    ...(args.tag ?? []),
  ];
  await deliverIndex(context, ref, built, { output: args.output, pretty: args.pretty, tags });
}

async function fetchIndex(
  target: Target,
  reference: string,
): Promise<{ descriptor: Descriptor; index: ImageIndex }> {
  const descriptor = await target.resolve(reference);
  const { parsed } = await fetchManifest(target, descriptor);
  if (parsed.kind !== 'index') {
    throw new FerryError(
      CliErrorCode.NotAnIndex,
      `${reference} in ${target.name} is not an index (${descriptor.mediaType})`,
    );
  }
  return { descriptor, index: parsed.index };
}
