import {
  ArtifactErrorCode,
  cachedTarget,
  globMatcher,
  selectLayers,
  unpack,
} from '@ferry/artifact';
import { FerryError } from '@ferry/oci';
import type { PullArgs } from './args/pull.js';
import { openTarget, type Context } from '../context.js';
import { SMALL_PULL_CONCURRENCY, transferLimits } from '../options/concurrency.js';
import { UsageError } from '../exit.js';
import { describe, descriptorJson, printResult, printStatusLines } from '../output.js';
import { Progress } from '../progress.js';
import { openCache } from './cache.js';
import { unpackSubjects } from './pull-subject.js';
import { checkOutputDirectory } from './output-path.js';
import { pullProgress } from './pull-progress.js';
import { fetchPullRoot, refuseContentOnJsonStdout, where, writeOutput } from './shared.js';

export async function run(context: Context, args: PullArgs): Promise<void> {
  const limits = transferLimits(args.concurrency);
  const opened = await openTarget(args.reference, context);
  const cache = await openCache(context, args['cache-dir'], {
    keepLarge: args['keep-in-cache'] === true,
  });
  // Blobs come through the download cache: resumable across runs, free when already cached.
  const ref = { ...opened, target: cache ? cachedTarget(opened.target, cache) : opened.target };
  const { root, fetched } = await fetchPullRoot(ref, args.platform, context);
  if (fetched.parsed.kind !== 'manifest')
    throw new FerryError(ArtifactErrorCode.NotAManifest, `${ref.display} is not an image manifest`);
  const manifest = fetched.parsed.manifest;
  const include = args.include?.length ? globMatcher(args.include) : undefined;

  if (args.output === '-') {
    refuseContentOnJsonStdout(context, 'the file');
    const layers = selectLayers(manifest, include);
    const only = layers[0];
    if (layers.length !== 1 || !only) {
      throw new UsageError(
        `-o - streams exactly one file, but ${layers.length} match; narrow it with --include <glob>`,
      );
    }
    if (only.annotations?.['io.deis.oras.content.unpack'] === 'true') {
      throw new UsageError(
        `${describe(only)} is a directory; pull it to a directory instead of stdout`,
      );
    }
    await writeOutput(context, '-', await ref.target.fetch(only));
    return;
  }

  await checkOutputDirectory('-o', args.output, { stdout: true });
  const progress = Progress.forTerminal(args.tty);
  const { fetcher, onProgress } = pullProgress(
    ref.target,
    selectLayers(manifest, include),
    progress,
  );
  let files;
  try {
    const unpackOptions = {
      outputDir: args.output,
      ...(include ? { include } : {}),
      keepOldFiles: args['keep-old-files'] === true,
      allowPathTraversal: args['allow-path-traversal'] === true,
      allowLargeExpansion: args['allow-large-expansion'] === true,
      // Small blobs: more at once than push moves (see SMALL_PULL_CONCURRENCY).
      concurrency: args.concurrency === undefined ? SMALL_PULL_CONCURRENCY : limits.total,
      largeConcurrency: limits.concurrency,
    };
    files = await unpack(manifest, fetcher, { ...unpackOptions, onProgress });
    if (args['include-subject']) {
      files.push(...(await unpackSubjects(manifest, ref.target, unpackOptions)));
    }
  } finally {
    progress.stop();
  }
  printStatusLines(
    context,
    'Downloaded',
    files.map((file) => ({ name: file.title, digest: file.descriptor.digest })),
  );
  if (files.length === 0)
    context.io.stderr(
      'Warning: no file was pulled: the artifact has no titled layers (or none matched --include)\n',
    );
  printResult(
    context,
    [`Pulled ${where(ref)} ${ref.display}`, `Digest: ${root.digest}`],
    descriptorJson(`${ref.base}@${root.digest}`, root, {
      files: files.map((file) => ({
        path: file.path,
        title: file.title,
        mediaType: file.descriptor.mediaType,
        digest: file.descriptor.digest,
        size: file.descriptor.size,
        ...(file.descriptor.annotations ? { annotations: file.descriptor.annotations } : {}),
      })),
    }),
  );
}
