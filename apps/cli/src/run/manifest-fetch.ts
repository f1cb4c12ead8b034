import { Readable } from 'node:stream';
import { fetchManifest } from '@ferry/artifact';
import type { ManifestArgs } from '../commands/manage.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { resolveRoot, writeOutput } from './shared.js';

/** Prints the manifest's bytes exactly as stored (their sha256 is the digest), unless --pretty. */
export async function run(context: Context, args: ManifestArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  const descriptor = await resolveRoot(ref, args.platform, context);
  if (args.descriptor) {
    printResult(
      context,
      [JSON.stringify(descriptor)],
      descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor),
    );
    return;
  }
  const { bytes } = await fetchManifest(ref.target, descriptor);
  const out = args.pretty
    ? Buffer.from(`${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2)}\n`)
    : bytes;
  await writeOutput(context, args.output ?? '-', Readable.from([out]));
}
