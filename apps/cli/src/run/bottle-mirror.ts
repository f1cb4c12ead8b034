import { mirrorBottles } from '@ferry/homebrew';
import type { BottleArgs } from '../commands/bottle.js';
import type { Context } from '../context.js';
import { UsageError } from '../exit.js';
import { describe, plural, printResult, printStatus } from '../output.js';
import { bottleTargets, imageJson, oneDocument } from './bottle-shared.js';

export async function run(context: Context, args: BottleArgs): Promise<void> {
  const to = (args.to ?? '').replace(/^[a-z]+:\/\//, '').replace(/\/+$/, '');
  const slash = to.indexOf('/');
  if (slash <= 0 || slash === to.length - 1) {
    throw new UsageError(
      `--to needs registry/namespace, e.g. localhost:5000/homebrew/core (got ${JSON.stringify(args.to)})`,
    );
  }
  const source = await bottleTargets(context, args.registry);
  const destination = await bottleTargets(context, to.slice(0, slash));
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
  const text = mirrored.flatMap((image) => [
    `Mirrored ${source.host}/${image.repository}:${image.imageTag} => ${destination.host}/${image.destination}:${image.imageTag} (${plural(image.bottleTags.length, 'bottle')}, ${image.transferred === 0 ? 'already up to date' : `${image.transferred} transferred`})`,
    `Digest: ${image.indexDigest}`,
  ]);
  if (context.args.format !== 'json') {
    printResult(context, text, undefined);
    return;
  }
  const images = await Promise.all(
    mirrored.map(async (image) => {
      const index = await destination.open(image.destination).resolve(image.indexDigest);
      return {
        ...imageJson(destination.host, image.destination, index),
        referenceAsTag: `${destination.host}/${image.destination}:${image.imageTag}`,
        source: `${source.host}/${image.repository}:${image.imageTag}`,
        imageTag: image.imageTag,
        bottleTags: image.bottleTags,
        transferred: image.transferred,
      };
    }),
  );
  printResult(context, text, oneDocument(images, 'images'));
}
