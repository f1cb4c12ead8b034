import { bottleInfo, imageName, parseFormulaFullName } from '@ferry/homebrew';
import type { BottleInfoArgs } from './args/bottle.js';
import type { Context } from '../context.js';
import { printResult } from '../output.js';
import { formatBytes } from '../progress.js';
import { bottleSource } from './bottle-shared.js';

export async function run(context: Context, args: BottleInfoArgs): Promise<void> {
  const { namespace, name } = parseFormulaFullName(args.formula);
  const source = bottleSource(context, args);
  const repository = `${namespace === 'homebrew/core' ? source.coreNamespace : namespace}/${imageName(name)}`;
  const info = await bottleInfo(await source.open(repository), repository, args.version);
  const reference = `${source.host}/${repository}:${info.imageTag}`;
  const rows = info.bottles.map((b) => [
    b.tag,
    b.platform ? `${b.platform.os}/${b.platform.architecture}` : '-',
    b.size >= 0 ? formatBytes(b.size) : '?',
    b.digest,
    b.refName ?? '-',
  ]);
  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(
      ...[['TAG', 'PLATFORM', 'SIZE', 'DIGEST'][i]!.length, ...rows.map((r) => r[i]!.length)],
    ),
  );
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]!) : cell)).join('  ');
  const text = [
    `${reference}  (index ${info.indexDigest})`,
    ...(info.annotations['org.opencontainers.image.description']
      ? [info.annotations['org.opencontainers.image.description']]
      : []),
    '',
    line(['TAG', 'PLATFORM', 'SIZE', 'DIGEST', 'REF']),
    ...rows.map(line),
  ];
  for (const bottle of info.bottles) {
    if (bottle.dependencies.length) {
      text.push(
        '',
        `Runtime dependencies (${bottle.tag}): ${bottle.dependencies.map((d) => `${d.name} ${d.version}`).join(', ')}`,
      );
    }
  }
  printResult(context, text, {
    reference: `${source.host}/${repository}@${info.indexDigest}`,
    referenceAsTag: reference,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    digest: info.indexDigest,
    size: info.indexSize,
    imageTag: info.imageTag,
    annotations: info.annotations,
    bottles: info.bottles.map((bottle) => ({
      reference: `${source.host}/${repository}@${bottle.digest}`,
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      ...bottle,
    })),
  });
}
