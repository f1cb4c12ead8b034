import { fetchManifest, selectFromIndex } from '@ferry/artifact';
import { inspectModel } from '@ferry/model';
import { hostPlatform } from '@ferry/oci';
import type { ModelInspectArgs } from './args/model.js';
import { openTarget, type Context } from '../context.js';
import { descriptorJson, printResult } from '../output.js';
import { formatBytes } from '../progress.js';
import { factRows, fileTable, filesJson, formatRows, terminalSafe } from './model-shared.js';
import { resolveRoot } from './shared.js';

export async function run(context: Context, args: ModelInspectArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  let root = await resolveRoot(ref, args.platform, context);
  let fetched = await fetchManifest(ref.target, root);
  if (fetched.parsed.kind === 'index') {
    // An index of platforms: like `ferry pull`, the host's unless --platform chose.
    root = await selectFromIndex(ref.target, root, hostPlatform());
    fetched = await fetchManifest(ref.target, root);
  }
  const model = await inspectModel(ref.target, root, undefined, fetched);
  const total = model.files.reduce((sum, file) => sum + file.descriptor.size, 0);
  const type = model.manifest.artifactType ?? model.manifest.config.mediaType;
  printResult(
    context,
    [
      ...formatRows([
        ['Reference', terminalSafe(`${ref.base}@${root.digest}`)],
        ['Model format', `${model.format} (${terminalSafe(type)})`],
        ...factRows(model.facts),
        ['Files', `${model.files.length}, ${formatBytes(total)}`],
      ]),
      '',
      ...fileTable(model.files),
    ],
    descriptorJson(`${ref.base}@${root.digest}`, root, {
      ...(model.manifest.artifactType ? { artifactType: model.manifest.artifactType } : {}),
      format: model.format,
      model: model.facts,
      files: filesJson(model.files),
      ...(model.config !== undefined ? { config: model.config } : {}),
    }),
  );
}
