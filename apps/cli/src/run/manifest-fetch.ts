import { Readable } from 'node:stream';
import { fetchManifest } from '@ferry/artifact';
import type { ManifestFetchArgs } from './args/manifest-fetch.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, parsedContent, printResult } from '../output.js';
import { escapeTerminal } from '../terminal-text.js';
import { ErrorCode, FerryError } from '@ferry/oci';
import { printDescriptor } from './descriptor-output.js';
import { resolveRoot, writeOutput } from './shared.js';

/**
 * `--media-type a,b`: ORAS sends these as the Accept header; ferry asks for every manifest type
 * it reads and refuses, naming both, a manifest of a type not accepted.
 */
function checkAccepted(display: string, mediaType: string, accepted: string | undefined): void {
  if (accepted === undefined) return;
  const types = accepted
    .split(',')
    .map((type) => type.trim())
    .filter(Boolean);
  if (types.length && !types.includes(mediaType)) {
    throw new FerryError(
      ErrorCode.UnsupportedMediaType,
      `${display} is a ${mediaType}, not one of the accepted --media-type ${types.join(', ')}`,
    );
  }
}

/** Prints the manifest's bytes exactly as stored (their sha256 is the digest), unless --pretty. */
export async function run(context: Context, args: ManifestFetchArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  const descriptor = await resolveRoot(ref, args.platform, context);
  checkAccepted(ref.display, descriptor.mediaType, args['media-type']);
  const reference = `${ref.base}@${descriptor.digest}`;
  if (args.descriptor) {
    if (context.args.format === 'json') {
      printResult(context, [], descriptorJson(reference, descriptor));
    } else printDescriptor(context, descriptor, args.pretty);
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
  if (args.pretty) {
    // --pretty is text ferry writes, so it is escaped like any other (the JSON stays valid and
    // equal); without it the bytes are the artifact's own and pass through as `cat` would.
    const text = escapeTerminal(`${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2)}
`);
    if ((args.output ?? '-') === '-') context.io.stdout(text);
    else await writeOutput(context, args.output ?? '-', Readable.from([Buffer.from(text)]));
    return;
  }
  await writeOutput(context, args.output ?? '-', Readable.from([bytes]));
}
