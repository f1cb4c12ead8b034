import { pack } from '@ferry/artifact';
import type { AttachArgs } from './args/attach.js';
import { openTarget, type Context } from '../context.js';
import { transferLimits } from '../options/concurrency.js';
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
import { resolveRoot, where } from './shared.js';

/** A referrer: an artifact whose `subject` is the named manifest, pushed by digest (no tag). */
export async function run(context: Context, args: AttachArgs): Promise<void> {
  const limits = transferLimits(args.concurrency);
  const ref = await openTarget(args.reference, context);
  const subject = await resolveRoot(ref, args.platform, context);
  await checkExportPath(args['export-manifest']);
  const options = await packOptions(args);
  const staged = await stageFiles(args.files, undefined);
  const chosen = await chooseConfig(args);
  if (!chosen.config) ensureSomethingToPush(staged.files, options.annotations, 'attach');
  const progress = Progress.forTerminal(args.tty);
  const hashing = await pushHashing(ref.target, {
    concurrency: limits.concurrency,
    progress,
    digestCache: args['digest-cache'],
  });
  const packed = await pack(staged.files, {
    ...options,
    hashFile: hashing.hashFile,
    ...(chosen.config ? { config: chosen.config, imageSpec: 'v1.1' as const } : {}),
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
  }).catch(async (error: unknown) => {
    await hashing.abort();
    await chosen.cleanup();
    throw error;
  });
  let attached = false;
  try {
    await uploadPacked(context, ref.target, packed, {
      ...limits,
      progress,
      eager: hashing.eager,
    });
    await exportManifest(args['export-manifest'], packed);
    printResult(
      context,
      [
        `Attached to ${where(ref)} ${ref.base}@${subject.digest}`,
        `Digest: ${packed.descriptor.digest}`,
      ],
      descriptorJson(
        `${ref.base}@${packed.descriptor.digest}`,
        { ...packed.descriptor, artifactType: args['artifact-type'] },
        {
          subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
        },
      ),
    );
    attached = true;
  } finally {
    if (attached) await hashing.save();
    else await hashing.abort();
    progress.stop();
    await packed.cleanup();
    await staged.cleanup();
    await chosen.cleanup();
  }
}
