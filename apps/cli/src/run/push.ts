import { pack } from '@ferry/artifact';
import { isDigest } from '@ferry/oci';
import type { PushArgs } from './args/push.js';
import { openTarget, splitLayoutReference, type Context, type TargetRef } from '../context.js';
import { transferLimits } from '../options/concurrency.js';
import { UsageError } from '../exit.js';
import { descriptorJson, printResult } from '../output.js';
import { Progress } from '../progress.js';
import {
  ensureSomethingToPush,
  checkExportPath,
  exportManifest,
  packOptions,
  pushHashing,
  stageFiles,
  uploadPacked,
} from './publish.js';
import { chooseConfig } from './artifact-platform.js';
import { tagsOf, where } from './shared.js';

function refuseDigest(ref: TargetRef): void {
  if (ref.reference && isDigest(ref.reference)) {
    throw new UsageError(
      `push to a tag (${ref.base}:v1), not a digest: the digest comes from the content`,
    );
  }
}

export async function run(context: Context, args: PushArgs): Promise<void> {
  const limits = transferLimits(args.concurrency);
  // A layout directory is created only once there is something valid to put in it; a registry
  // reference is checked before any file is read.
  const layout = context.args['oci-layout'] === true;
  let ref: TargetRef | undefined;
  if (layout) splitLayoutReference(args.reference.split(',')[0] ?? '');
  else refuseDigest((ref = await openTarget(args.reference, context)));

  await checkExportPath(args['export-manifest']);
  const options = await packOptions(args);
  const staged = await stageFiles(args.files, args.title);
  const chosen = await chooseConfig(args);
  const config = chosen.config;
  if (!config) ensureSomethingToPush(staged.files, options.annotations, 'push');
  const progress = Progress.forTerminal(args.tty);
  const hashing = await pushHashing(ref?.target, {
    concurrency: limits.concurrency,
    progress,
    digestCache: args['digest-cache'],
    tag: ref ? tagsOf(ref)[0] : undefined,
  });
  let pushed = false;
  try {
    const packed = await pack(staged.files, {
      ...options,
      ...(chosen.artifactType && !options.artifactType
        ? { artifactType: chosen.artifactType }
        : {}),
      ...(chosen.imageSpec ? { imageSpec: chosen.imageSpec } : {}),
      hashFile: hashing.hashFile,
      ...(config ? { config } : {}),
    });
    try {
      if (!ref) refuseDigest((ref = await openTarget(args.reference, context, { create: true })));
      const tags = tagsOf(ref);
      // Tags only with or after the manifest, which needs its blobs: never a tag on half a push.
      await uploadPacked(context, ref.target, packed, {
        ...limits,
        progress,
        tag: tags[0],
        eager: hashing.eager,
      });
      for (const tag of tags.slice(1)) await ref.target.tag(packed.descriptor, tag);
      await exportManifest(args['export-manifest'], packed);
      const artifactType = packed.manifest.artifactType ?? packed.manifest.config.mediaType;
      const base = ref.base;
      const shown = tags.length
        ? `${base}:${tags.join(',')}`
        : `${base}@${packed.descriptor.digest}`;
      printResult(
        context,
        [
          `Pushed ${where(ref)} ${shown}`,
          `ArtifactType: ${artifactType}`,
          `Digest: ${packed.descriptor.digest}`,
        ],
        descriptorJson(
          `${base}@${packed.descriptor.digest}`,
          { ...packed.descriptor, artifactType },
          {
            referenceAsTags: tags.map((tag) => `${base}:${tag}`),
            annotations: packed.manifest.annotations ?? {},
          },
        ),
      );
      pushed = true;
    } finally {
      await packed.cleanup();
    }
  } finally {
    if (pushed) await hashing.save();
    else await hashing.abort();
    progress.stop();
    await staged.cleanup();
    await chosen.cleanup();
  }
}
