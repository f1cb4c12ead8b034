import { fetchManifest } from '@ferry/artifact';
import { FerryError } from '@ferry/oci';
import type { ManifestArgs } from '../commands/manage.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { resolveRoot, writeOutput } from './shared.js';

export async function run(context: Context, args: ManifestArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  const root = await resolveRoot(ref, args.platform, context);
  const { parsed } = await fetchManifest(ref.target, root);
  if (parsed.kind !== 'manifest') {
    throw new FerryError(
      'ERR_NOT_A_MANIFEST',
      `${ref.display} is an index, which has no config; choose a manifest with --platform os/arch`,
    );
  }
  const config = parsed.manifest.config;
  if (args.descriptor) {
    printResult(
      context,
      [JSON.stringify(config)],
      descriptorJson(`${ref.base}@${config.digest}`, config),
    );
    return;
  }
  await writeOutput(context, args.output ?? '-', await ref.target.fetch(config));
}
