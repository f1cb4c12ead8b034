import { pushBottles, readBottleFiles } from '@ferry/homebrew';
import type { BottleArgs } from '../commands/bottle.js';
import type { Context } from '../context.js';
import { plural, printResult, printStatus } from '../output.js';
import { bottleTargets, imageJson, oneDocument } from './bottle-shared.js';

export async function run(context: Context, args: BottleArgs): Promise<void> {
  const files = await readBottleFiles(args.files);
  const targets = await bottleTargets(context, args.registry);
  const pushed = await pushBottles(files, {
    namespace: args.namespace,
    keepOld: args['keep-old'] === true,
    openTarget: targets.open,
    onEvent: (event) =>
      printStatus(
        context,
        event.type === 'exists' ? 'Exists' : 'Uploaded',
        event.what,
        event.descriptor.digest,
      ),
  });
  const text = pushed.flatMap((image) => [
    `Pushed [registry] ${targets.host}/${image.repository}:${image.imageTag} (${plural(image.bottleTags.length, 'bottle')})`,
    `Digest: ${image.indexDigest}`,
  ]);
  if (context.args.format !== 'json') {
    printResult(context, text, undefined);
    return;
  }
  const images = await Promise.all(
    pushed.map(async (image) => {
      const index = await targets.open(image.repository).resolve(image.indexDigest);
      return {
        ...imageJson(targets.host, image.repository, index),
        referenceAsTag: `${targets.host}/${image.repository}:${image.imageTag}`,
        imageTag: image.imageTag,
        refNames: image.bottleTags,
      };
    }),
  );
  printResult(context, text, oneDocument(images, 'images'));
}
