import { packModel, type KindOverrides, type ModelFile } from '@ferry/model';
import { isDigest } from '@ferry/oci';
import type { ModelPushArgs } from './args/model.js';
import { openTarget, splitLayoutReference, type Context, type TargetRef } from '../context.js';
import { UsageError } from '../exit.js';
import { transferLimits } from '../options/concurrency.js';
import { descriptorJson, printResult } from '../output.js';
import { Progress } from '../progress.js';
import { filesJson, formatRows, factRows, terminalSafe } from './model-shared.js';
import { parseAnnotations, pushHashing, uploadPacked } from './publish.js';
import { tagsOf, where } from './shared.js';

function refuseDigest(ref: TargetRef): void {
  if (ref.reference && isDigest(ref.reference)) {
    throw new UsageError(
      `push to a tag (${ref.base}:v1), not a digest: the digest comes from the content`,
    );
  }
}

/** --created, else SOURCE_DATE_EPOCH, else nothing (reproducible). */
function creationTime(args: ModelPushArgs): number | string | undefined {
  if (args.created !== undefined) return args.created;
  const epoch = process.env.SOURCE_DATE_EPOCH;
  if (epoch === undefined) return undefined;
  if (!/^\d+$/.test(epoch))
    throw new UsageError(`SOURCE_DATE_EPOCH must be whole seconds, not ${JSON.stringify(epoch)}`);
  return Number(epoch);
}

export async function run(context: Context, args: ModelPushArgs): Promise<void> {
  const limits = transferLimits(args.concurrency);
  const dryRun = args['dry-run'] === true;
  const layout = context.args['oci-layout'] === true;
  // A registry reference is checked before any file is read; a layout is made only when needed.
  let ref: TargetRef | undefined;
  if (layout) splitLayoutReference(args.reference.split(',')[0] ?? '');
  else refuseDigest((ref = await openTarget(args.reference, context)));

  const overrides: KindOverrides = {
    weights: args.weights,
    config: args.config,
    docs: args.doc,
    code: args.code,
    datasets: args.dataset,
  };
  const annotations = parseAnnotations(args.annotation);
  const progress = Progress.forTerminal(args.tty);
  const hashing = await pushHashing(dryRun ? undefined : ref?.target, {
    concurrency: limits.concurrency,
    progress,
    digestCache: args['digest-cache'],
    tag: ref ? tagsOf(ref)[0] : undefined,
  });
  let pushed = false;
  try {
    const model = await packModel(args.dir, {
      overrides,
      annotations,
      created: creationTime(args),
      hashFile: hashing.hashFile,
      facts: {
        name: args.name,
        version: args.version,
        family: args.family,
        architecture: args.architecture,
        format: args['model-format'],
        paramSize: args['param-size'],
        precision: args.precision,
        quantization: args.quantization,
        licenses: args.license,
        authors: args.author,
        vendor: args.vendor,
        title: args.title,
        description: args.description,
        sourceURL: args['source-url'],
        docURL: args['doc-url'],
        revision: args.revision,
      },
    });
    const { packed } = model;
    if (model.skipped.length) {
      context.io.stderr(
        `Skipped ${model.skipped.length} dot-file(s) and dot-directories: ${model.skipped.map(terminalSafe).join(', ')}\n`,
      );
    }
    const files: ModelFile[] = model.files.map((file) => ({
      path: file.path,
      kind: file.kind,
      packing: 'raw',
      descriptor: file.descriptor,
    }));
    try {
      if (dryRun) {
        const manifest = JSON.parse(packed.manifestBytes.toString('utf8')) as unknown;
        const shown = ref ? `${ref.base}@${packed.descriptor.digest}` : packed.descriptor.digest;
        printResult(
          context,
          [
            `Dry run: nothing pushed. ${model.files.length} files, digest ${packed.descriptor.digest}`,
            'Manifest:',
            JSON.stringify(manifest, null, 2),
            'Config:',
            JSON.stringify(model.config, null, 2),
          ],
          descriptorJson(shown, packed.descriptor, {
            dryRun: true,
            manifest,
            config: model.config,
            model: model.facts,
            files: filesJson(files),
          }),
        );
        pushed = true;
        return;
      }
      if (!ref) refuseDigest((ref = await openTarget(args.reference, context, { create: true })));
      const tags = tagsOf(ref);
      // The push sequence of @ferry/artifact (pushPacked), as `ferry push`: tags after the manifest.
      await uploadPacked(context, ref.target, packed, {
        ...limits,
        progress,
        tags,
        eager: hashing.eager,
      });
      const base = ref.base;
      const shown = tags.length
        ? `${base}:${tags.join(',')}`
        : `${base}@${packed.descriptor.digest}`;
      printResult(
        context,
        [
          `Pushed ${where(ref)} ${shown}`,
          `ArtifactType: ${packed.descriptor.artifactType ?? ''}`,
          `Digest: ${packed.descriptor.digest}`,
          ...formatRows(factRows(model.facts)),
        ],
        descriptorJson(`${base}@${packed.descriptor.digest}`, packed.descriptor, {
          referenceAsTags: tags.map((tag) => `${base}:${tag}`),
          model: model.facts,
          files: filesJson(files),
        }),
      );
      pushed = true;
    } finally {
      await packed.cleanup();
    }
  } finally {
    if (pushed) await hashing.save();
    else await hashing.abort();
    progress.stop();
  }
}
