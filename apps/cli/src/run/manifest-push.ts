import { readFile } from 'node:fs/promises';
import { describeManifest, DigestMismatchError, isDigest, parseManifest } from '@ferry/oci';
import type { ManifestArgs } from '../commands/manage.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { UsageError } from '../exit.js';
import { printDescriptor, runLimited } from './descriptor-output.js';
import { tagsOf, where } from './shared.js';

export async function run(context: Context, args: ManifestArgs): Promise<void> {
  const file = args.file ?? '-';
  const bytes =
    file === '-' ? Buffer.from(await context.readStdin(), 'utf8') : await readFile(file);
  // Validate before anything reaches the registry; the bytes are then sent exactly as read.
  const parsed = parseManifest(bytes, args['media-type']);
  const descriptor = describeManifest(bytes, args['media-type'] ?? parsed.mediaType);
  const ref = await openTarget(args.reference, context, { create: true });
  if (ref.reference && isDigest(ref.reference) && ref.reference !== descriptor.digest) {
    throw new DigestMismatchError(
      ref.reference,
      descriptor.digest,
      `${file} pushed as ${ref.display}`,
    );
  }
  const concurrency = args.concurrency ?? 5;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new UsageError(`--concurrency ${concurrency}: give a whole number of at least 1, like 5`);
  }
  await ref.target.push(descriptor, bytes);
  const tags = tagsOf(ref);
  await runLimited(
    tags.map((tag) => () => ref.target.tag(descriptor, tag)),
    concurrency,
  );
  if (args.descriptor && context.args.format !== 'json') {
    printDescriptor(context, descriptor, args.pretty);
    return;
  }
  printResult(
    context,
    [`Pushed ${where(ref)} ${ref.display}`, `Digest: ${descriptor.digest}`],
    descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor, { tags }),
  );
}
