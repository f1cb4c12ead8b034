import { Readable } from 'node:stream';
import { fetchManifest } from '@ferry/artifact';
import type { ManifestArgs } from '../commands/manage.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { escapeTerminal } from '../terminal-text.js';
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
  if (args.pretty) {
    // --pretty is text ferry writes, so it is escaped like any other (the JSON stays valid and
    // equal); without it the bytes are the artifact's own and pass through as `cat` would.
    const text = escapeTerminal(`${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2)}\n`);
    if ((args.output ?? '-') === '-') context.io.stdout(text);
    else await writeOutput(context, args.output ?? '-', Readable.from([Buffer.from(text)]));
    return;
  }
  await writeOutput(context, args.output ?? '-', Readable.from([bytes]));
}
