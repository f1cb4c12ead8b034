import { buildIndex, resolveIndexSource } from '@ferry/artifact';
import { isDigest, MediaType } from '@ferry/oci';
import type { IndexCreateArgs } from './args/manifest-index.js';
import { openTarget, type Context } from '../context.js';
import { shortDigest, printStatus } from '../output.js';
import { UsageError } from '../exit.js';
import { parseAnnotations } from './publish.js';
import { deliverIndex, fetchedLine } from './index-shared.js';

export async function run(context: Context, args: IndexCreateArgs): Promise<void> {
  const annotations = parseAnnotations(args.annotation);
  const toStdout = args.output === '-';
  // With the index on stdout, status lines would corrupt it: they are left out.
  const statusContext = toStdout
    ? { ...context, args: { ...context.args, format: 'json' as const } }
    : context;
  const ref = await openTarget(args.reference, context, { create: args.output === undefined });
  if (ref.reference && isDigest(ref.reference) && args.output === undefined) {
    throw new UsageError(
      `${ref.display}: name the index to create by tag (or not at all), not by digest`,
    );
  }
  const manifests = [];
  for (const source of args.sources) {
    printStatus(statusContext, 'Fetching', source);
    const { descriptor } = await resolveIndexSource(ref.target, source);
    fetchedLine(statusContext, 'Fetched', source, descriptor.digest);
    manifests.push(descriptor);
  }
  const built = buildIndex({
    manifests,
    annotations,
    artifactType: args['artifact-type'],
  });
  printStatus(
    statusContext,
    'Packed',
    `${shortDigest(built.descriptor.digest)} ${MediaType.OciIndex}`,
  );
  const tags = [
    ...(ref.reference && !isDigest(ref.reference) ? [ref.reference] : []),
    ...ref.extraTags,
  ];
  await deliverIndex(context, ref, built, { output: args.output, pretty: args.pretty, tags });
}
