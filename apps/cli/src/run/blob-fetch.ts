import { resolve } from 'node:path';
import { cacheParallelDownloads } from '@ferry/artifact';
import type { BlobFetchArgs } from './args/blob.js';
import { openTarget, type Context } from '../context.js';
import { UsageError } from '../exit.js';
import { descriptorJson, printResult } from '../output.js';
import { blobDescriptor, blobDigest } from './blob-shared.js';
import { checkOutputFile } from './output-path.js';
import { refuseContentOnJsonStdout, writeOutput } from './shared.js';
import { openCache } from './cache.js';

export async function run(context: Context, args: BlobFetchArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  if (args.output === '-' && !args.descriptor) refuseContentOnJsonStdout(context, 'the blob');
  if (args.output !== undefined && args.output !== '-' && !args.descriptor) {
    await checkOutputFile('--output', args.output);
  }
  const descriptor = await blobDescriptor(ref, blobDigest(ref));
  if (args.descriptor) {
    printResult(
      context,
      [JSON.stringify(descriptor)],
      descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor),
    );
    return;
  }
  if (args.output === undefined)
    throw new UsageError('say where the blob goes: --output <file>, or --output - for stdout');
  // A blob large enough for parallel ranges is fetched into the download cache (where the
  // ranges are written and resumed from), then read from there.
  const cache = ref.target.resumable ? await openCache(context, args['cache-dir']) : undefined;
  const source = cache ? cacheParallelDownloads(ref.target, cache) : ref.target;
  // The fetch verifies size and digest; writeOutput renames into place only after it ended cleanly.
  await writeOutput(context, args.output, await source.fetch(descriptor));
  if (args.output !== '-') {
    printResult(
      context,
      [],
      descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor, {
        path: resolve(args.output),
      }),
    );
  }
}
