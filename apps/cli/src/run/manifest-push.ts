import { readFile } from 'node:fs/promises';
import {
  describeManifest,
  DigestMismatchError,
  FerryError,
  isDigest,
  parseManifest,
  type Descriptor,
} from '@ferry/oci';
import type { ManifestPushArgs } from './args/manifest-push.js';
import { openTarget, type Context, type TargetRef } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { printDescriptor, runLimited } from './descriptor-output.js';
import { tagsOf, where } from './shared.js';
import { CliErrorCode } from '../errors.js';

export async function run(context: Context, args: ManifestPushArgs): Promise<void> {
  const file = args.file ?? '-';
  const bytes =
    file === '-' ? Buffer.from(await context.readStdin(), 'utf8') : await readFile(file);
  // Validate before anything reaches the registry; the bytes are then sent exactly as read.
  const parsed = parseManifest(bytes, args['media-type']);
  const descriptor = describeManifest(bytes, args['media-type'] ?? parsed.mediaType);
  const ref = await openTarget(args.reference, context, { create: true });
  if (ref.reference && isDigest(ref.reference) && ref.reference !== descriptor.digest) {
    throw new DigestMismatchError(
      ref.reference,
      descriptor.digest,
      `${file} pushed as ${ref.display}`,
    );
  }
  try {
    await ref.target.push(descriptor, bytes);
  } catch (error) {
    throw (await explainMissingBlobs(error, ref, parsed, file)) ?? error;
  }
  const tags = tagsOf(ref);
  await runLimited(
    tags.map((tag) => () => ref.target.tag(descriptor, tag)),
    // Checked as the command line was read (options/concurrency.ts).
    args.concurrency,
  );
  if (args.descriptor && context.args.format !== 'json') {
    printDescriptor(context, descriptor, args.pretty);
    return;
  }
  printResult(
    context,
    [`Pushed ${where(ref)} ${ref.display}`, `Digest: ${descriptor.digest}`],
    descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor, { tags }),
  );
}

/**
 * A registry refuses a manifest whose blobs (or, for an index, manifests) it lacks with a bare
 * 400 MANIFEST_BLOB_UNKNOWN: find which ones are missing and say how to get them there.
 */
async function explainMissingBlobs(
  error: unknown,
  ref: TargetRef,
  parsed: ReturnType<typeof parseManifest>,
  file: string,
): Promise<FerryError | undefined> {
  const code = (error as { errors?: { code?: string }[] }).errors?.[0]?.code;
  const status = (error as { status?: number }).status;
  if (!(code === 'MANIFEST_BLOB_UNKNOWN' || code === 'BLOB_UNKNOWN' || status === 400)) return;
  const referenced: [string, Descriptor][] =
    parsed.kind === 'manifest'
      ? [
          ['config', parsed.manifest.config],
          ...parsed.manifest.layers.map((layer, i): [string, Descriptor] => [
            `layers[${i}]`,
            layer,
          ]),
        ]
      : parsed.kind === 'index'
        ? parsed.index.manifests.map((m, i): [string, Descriptor] => [`manifests[${i}]`, m])
        : [];
  const missing: string[] = [];
  for (const [where, descriptor] of referenced) {
    const present = await ref.target.exists(descriptor).catch(() => true);
    if (!present) missing.push(`${where} ${descriptor.digest}`);
  }
  if (missing.length === 0) return undefined;
  const what = parsed.kind === 'index' ? 'manifests' : 'blobs';
  const how =
    parsed.kind === 'index'
      ? `push those manifests to ${ref.base} first (ferry manifest push ${ref.base}@<digest> <file>)`
      : `push those blobs to ${ref.base} first (ferry blob push ${ref.base} <file>), then the manifest`;
  return new FerryError(
    CliErrorCode.MissingBlobs,
    `${file} references ${what} that ${ref.base} does not have: ${missing.join(', ')}; ${how}`,
  );
}
