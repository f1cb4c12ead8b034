import { resolve } from 'node:path';
import { cachedTarget } from '@ferry/artifact';
import {
  currentBottleTag,
  pullBottles,
  skipOrLaterBottles,
  standardizeBottleTag,
} from '@ferry/homebrew';
import { openCache } from './cache.js';
import type { BottlePullArgs } from './args/bottle.js';
import type { Context } from '../context.js';
import { printResult, shortDigest } from '../output.js';
import { formatBytes, Progress } from '../progress.js';
import { bottleSource, oneDocument } from './bottle-shared.js';
import { checkOutputDirectory } from './output-path.js';

export async function run(context: Context, args: BottlePullArgs): Promise<void> {
  const tag = typeof args.tag === 'string' ? standardizeBottleTag(args.tag) : currentBottleTag();
  await checkOutputDirectory('-o', args.output);
  if (args.extract) await checkOutputDirectory('--extract', args.extract);
  const source = bottleSource(context, args);
  const cache = await openCache(context, args['cache-dir'], {
    keepLarge: args['keep-in-cache'] === true,
  });
  const progress = Progress.forTerminal(args.tty);
  const text: string[] = [];
  try {
    const pulled = await pullBottles({
      formulas: args.formulas,
      namespace: source.coreNamespace,
      ...(args.version ? { version: args.version } : {}),
      hostTag: tag,
      match: { noOlderVersions: skipOrLaterBottles(tag) },
      outputDir: resolve(args.output),
      ...(args.extract ? { extractDir: resolve(args.extract) } : {}),
      withDeps: args['with-deps'] === true,
      concurrency: args.concurrency,
      openTarget: async (repository) => {
        const target = await source.open(repository);
        return cache ? cachedTarget(target, cache) : target;
      },
      onEvent: (event) => {
        if (event.type === 'downloading') progress.start(event.descriptor, 'Downloading');
        else if (event.type === 'progress') progress.advance(event.descriptor, event.bytes);
        else {
          const { bottle } = event;
          progress.finish({
            mediaType: '',
            digest: bottle.digest as `sha256:${string}`,
            size: bottle.size,
          });
          const verb = bottle.cached ? 'Cached' : 'Downloaded';
          text.push(
            `${verb.padEnd(10)} ${bottle.path} (${formatBytes(bottle.size)}, ${bottle.bottleTag}, ${shortDigest(bottle.digest)})${bottle.requiredBy ? ` (needed by ${bottle.requiredBy})` : ''}`,
          );
          if (bottle.extractedTo) text.push(`Extracted  ${bottle.extractedTo}`);
        }
      },
    });
    progress.stop();
    const bottles = pulled.map((bottle) => ({
      reference: `${source.host}/${bottle.repository}@${bottle.digest}`,
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: bottle.digest,
      size: bottle.size,
      referenceAsTag: `${source.host}/${bottle.repository}:${bottle.imageTag}`,
      formula: bottle.formula,
      imageTag: bottle.imageTag,
      bottleTag: bottle.bottleTag,
      refName: bottle.refName,
      path: bottle.path,
      cached: bottle.cached,
      dependency: bottle.dependency,
      ...(bottle.extractedTo ? { extractedTo: bottle.extractedTo } : {}),
    }));
    // The formula the user named first leads; its dependencies follow in `bottles`.
    const rank = (bottle: { formula: string; dependency: boolean }) =>
      bottle.dependency ? args.formulas.length : Math.max(0, args.formulas.indexOf(bottle.formula));
    bottles.sort((a, b) => rank(a) - rank(b));
    printResult(context, text, oneDocument(bottles, 'bottles'));
  } finally {
    progress.stop();
  }
}
