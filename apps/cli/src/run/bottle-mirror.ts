import { mirrorBottles } from '@ferry/homebrew';
import type { BottleArgs } from '../commands/bottle.js';
import type { Context } from '../context.js';
import { UsageError } from '../exit.js';
import { describe, plural, printResult, printStatus } from '../output.js';
import { bottleTargets } from './bottle-shared.js';

export async function run(context: Context, args: BottleArgs): Promise<void> {
  const to = (args.to ?? '').replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  const slash = to.indexOf('/');
  if (slash <= 0 || slash === to.length - 1) {
    throw new UsageError(
      `--to needs registry/namespace, e.g. localhost:5000/homebrew/core (got ${JSON.stringify(args.to)})`,
    );
  }
  // -u/-p/--password-stdin are the destination's, as in cp; the source is reached as Homebrew
  // reaches it (its token variables, or config.json).
  const source = await bottleTargets(context, args.registry, 'from');
  const destination = await bottleTargets(context, to.slice(0, slash), 'to');
  const tags = Array.isArray(args.tag) ? args.tag : args.tag ? [args.tag] : undefined;
  const mirrored = await mirrorBottles({
    formulas: args.formulas,
    namespace: args.namespace,
    toNamespace: to.slice(slash + 1),
    ...(args.version ? { version: args.version } : {}),
    ...(tags ? { tags } : {}),
    withDeps: args['with-deps'] === true,
    concurrency: args.concurrency,
    openSource: source.open,
    openDestination: destination.open,
    onEvent: (event) => {
      if (event.type === 'copied' || event.type === 'mounted') {
        printStatus(
          context,
          event.type === 'copied' ? 'Copied' : 'Mounted',
          describe(event.descriptor),
          event.descriptor.digest,
        );
      }
    },
  });
  printResult(
    context,
    mirrored.flatMap((image) => [
      `Mirrored ${source.host}/${image.repository}:${image.imageTag} => ${destination.host}/${image.destination}:${image.imageTag} (${plural(image.bottleTags.length, 'bottle')}, ${image.transferred === 0 ? 'already up to date' : `${image.transferred} transferred`})`,
      `Digest: ${image.indexDigest}`,
    ]),
    mirrored.map((image) => ({
      reference: `${destination.host}/${image.destination}:${image.imageTag}`,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: image.indexDigest,
      source: `${source.host}/${image.repository}:${image.imageTag}`,
      bottleTags: image.bottleTags,
      transferred: image.transferred,
    })),
  );
}
