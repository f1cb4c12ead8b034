import { pushBottles, readBottleFiles } from '@ferry/homebrew';
import type { BottleArgs } from '../commands/bottle.js';
import type { Context } from '../context.js';
import { plural, printResult, printStatus } from '../output.js';
import { bottleTargets } from './bottle-shared.js';

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
  printResult(
    context,
    pushed.flatMap((image) => [
      `Pushed [registry] ${targets.host}/${image.repository}:${image.imageTag} (${plural(image.bottleTags.length, 'bottle')})`,
      `Digest: ${image.indexDigest}`,
    ]),
    pushed.map((image) => ({
      reference: `${targets.host}/${image.repository}:${image.imageTag}`,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      digest: image.indexDigest,
      refNames: image.bottleTags,
    })),
  );
}
