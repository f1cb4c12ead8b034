import { Readable } from 'node:stream';
import { fetchManifest } from '@ferry/artifact';
import type { ManifestArgs } from '../commands/manage.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, parsedContent, printResult } from '../output.js';
import { resolveRoot, writeOutput } from './shared.js';

/** Prints the manifest's bytes exactly as stored (their sha256 is the digest), unless --pretty. */
export async function run(context: Context, args: ManifestArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  const descriptor = await resolveRoot(ref, args.platform, context);
  const reference = `${ref.base}@${descriptor.digest}`;
  if (args.descriptor) {
    printResult(context, [JSON.stringify(descriptor)], descriptorJson(reference, descriptor));
    return;
  }
  const { bytes } = await fetchManifest(ref.target, descriptor);
  if (context.args.format === 'json') {
    // As ORAS: the descriptor, with the manifest itself in `content` (also written to -o <file>).
    if (args.output !== undefined && args.output !== '-') {
      await writeOutput(context, args.output, Readable.from([bytes]));
    }
    printResult(context, [], descriptorJson(reference, descriptor, parsedContent(bytes)));
    return;
  }
  const out = args.pretty
    ? Buffer.from(`${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2)}\n`)
    : bytes;
  await writeOutput(context, args.output ?? '-', Readable.from([out]));
}
