import { bottleUploadCredentials, pushBottles, readBottleFiles } from '@ferry/homebrew';
import type { BottlePushArgs } from './args/bottle.js';
import type { Context } from '../context.js';
import { plural, printResult, printStatus } from '../output.js';
import { oneDocument, terminalSafe, uploadTargets } from './bottle-shared.js';

export async function run(context: Context, args: BottlePushArgs): Promise<void> {
  // Read (and refuse) HOMEBREW_GITHUB_PACKAGES_* before any file is hashed.
  const envCredentials = bottleUploadCredentials();
  const files = await readBottleFiles(args.files);
  if (args['root-url']) for (const file of files) file.rootUrl = args['root-url'];
  const targets = uploadTargets(context, envCredentials);
  const dryRun = args['dry-run'] === true;
  const pushed = await pushBottles(files, {
    registry: args.registry,
    namespace: args.namespace,
    keepOld: args['keep-old'] === true,
    dryRun,
    warnOnError: args['warn-on-upload-failure'] === true,
    openTarget: targets.open,
    onEvent: (event) => {
      if (event.type === 'warning') {
        context.io.stderr(`Warning: ${terminalSafe(event.message)}\n`);
        return;
      }
      printStatus(
        context,
        event.type === 'exists' ? 'Exists' : 'Uploaded',
        event.what,
        event.descriptor.digest,
      );
    },
  });
  const text = pushed.flatMap((image) => [
    `${dryRun ? 'Would push' : 'Pushed [registry]'} ${image.host}/${image.repository}:${image.imageTag} (${plural(image.bottleTags.length, 'bottle')}${dryRun && args['keep-old'] ? '; --keep-old would add them to an existing index' : ''})`,
    `Digest: ${image.indexDigest}`,
  ]);
  const images = pushed.map((image) => ({
    reference: `${image.host}/${image.repository}@${image.indexDigest}`,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest: image.indexDigest,
    size: image.indexSize,
    referenceAsTag: `${image.host}/${image.repository}:${image.imageTag}`,
    imageTag: image.imageTag,
    refNames: image.bottleTags,
    ...(dryRun ? { dryRun: true } : {}),
  }));
  printResult(context, text, oneDocument(images, 'images'));
}
