import { cachedTarget } from '@ferry/artifact';
import { inspectModel, pullModel, selectFiles } from '@ferry/model';
import type { ModelPullArgs } from './args/model.js';
import { openTarget, type Context } from '../context.js';
import { transferLimits } from '../options/concurrency.js';
import { descriptorJson, printResult, printStatus } from '../output.js';
import { Progress } from '../progress.js';
import { openCache } from './cache.js';
import { filesJson, parseKinds, terminalSafe } from './model-shared.js';
import { fetchPullRoot, where } from './shared.js';

export async function run(context: Context, args: ModelPullArgs): Promise<void> {
  const limits = transferLimits(args.concurrency);
  const only = parseKinds(args.only);
  const opened = await openTarget(args.reference, context);
  const cache = await openCache(context, args['cache-dir'], {
    keepLarge: args['keep-in-cache'] === true,
  });
  // Blobs come through the download cache: resumable across runs, free when already cached.
  const ref = { ...opened, target: cache ? cachedTarget(opened.target, cache) : opened.target };
  const { root, fetched } = await fetchPullRoot(ref, args.platform, context);
  const model = await inspectModel(ref.target, root, undefined, fetched);
  const selected = selectFiles(model, { only, include: args.include });
  if (selected.length === 0) {
    context.io.stderr(
      `Warning: no file was pulled: the ${model.format} artifact has ${model.files.length} file(s), none selected by --only/--include\n`,
    );
  }
  const progress = Progress.forTerminal(args.tty);
  const started = new Set<string>();
  try {
    const pulled = await pullModel(ref.target, selected, {
      outputDir: args.output,
      keepOldFiles: args['keep-old-files'] === true,
      concurrency: limits.total,
      largeConcurrency: limits.concurrency,
      onProgress: (file, bytes) => {
        if (!started.has(file.descriptor.digest)) {
          started.add(file.descriptor.digest);
          progress.start(file.descriptor, 'Downloading');
        }
        progress.advance(file.descriptor, bytes);
      },
    });
    for (const { file } of pulled) {
      progress.finish(file.descriptor);
      printStatus(context, 'Downloaded', terminalSafe(file.path), file.descriptor.digest);
    }
    printResult(
      context,
      [
        `Pulled ${where(ref)} ${ref.display} (${model.format}, ${pulled.length} of ${model.files.length} files)`,
        `Digest: ${root.digest}`,
      ],
      descriptorJson(`${ref.base}@${root.digest}`, root, {
        format: model.format,
        model: model.facts,
        files: filesJson(pulled.map((p) => p.file)).map((file, i) => ({
          ...file,
          written: pulled[i]?.written ?? [],
        })),
      }),
    );
  } finally {
    progress.stop();
  }
}
