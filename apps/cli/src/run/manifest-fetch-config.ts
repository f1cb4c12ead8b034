import { Readable } from 'node:stream';
import { ArtifactErrorCode, fetchManifest } from '@ferry/artifact';
import { FerryError } from '@ferry/oci';
import type { ManifestFetchConfigArgs } from './args/manifest-fetch.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, parsedContent, printResult } from '../output.js';
import { resolveRoot, writeOutput } from './shared.js';

/** Configs are small JSON documents; a larger one is not put into a JSON result. */
const CONTENT_LIMIT = 4 * 1024 * 1024;

export async function run(context: Context, args: ManifestFetchConfigArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  const root = await resolveRoot(ref, args.platform, context);
  const { parsed } = await fetchManifest(ref.target, root);
  if (parsed.kind !== 'manifest') {
    throw new FerryError(
      ArtifactErrorCode.NotAManifest,
      `${ref.display} is an index, which has no config; choose a manifest with --platform os/arch`,
    );
  }
  const config = parsed.manifest.config;
  const reference = `${ref.base}@${config.digest}`;
  if (args.descriptor) {
    printResult(context, [JSON.stringify(config)], descriptorJson(reference, config));
    return;
  }
  if (context.args.format !== 'json') {
    await writeOutput(context, args.output ?? '-', await ref.target.fetch(config));
    return;
  }
  // JSON: the config descriptor with the config in `content` (null when it is not JSON).
  let bytes: Buffer | undefined;
  if (config.size <= CONTENT_LIMIT || (args.output !== undefined && args.output !== '-')) {
    const chunks: Buffer[] = [];
    for await (const chunk of await ref.target.fetch(config)) chunks.push(chunk as Buffer);
    bytes = Buffer.concat(chunks);
  }
  if (bytes && args.output !== undefined && args.output !== '-') {
    await writeOutput(context, args.output, Readable.from([bytes]));
  }
  const content =
    bytes && bytes.byteLength <= CONTENT_LIMIT ? parsedContent(bytes) : { content: null };
  printResult(context, [], descriptorJson(reference, config, content));
}
