import type { Target } from '@ferry/artifact';
import type { Descriptor } from '@ferry/oci';
import type { DiscoverArgs } from '../commands/artifacts.js';
import { openTarget, type Context } from '../context.js';
import { referrersTable } from './discover-table.js';
import { resolveRoot } from './shared.js';

interface Node {
  descriptor: Descriptor;
  referrers: Node[];
}

/** Referrers of referrers, to `depth` levels, never visiting a manifest twice (cycles). */
async function walk(
  target: Target,
  descriptor: Descriptor,
  artifactType: string | undefined,
  depth: number,
  seen: Set<string>,
): Promise<Node> {
  seen.add(descriptor.digest);
  if (depth <= 0) return { descriptor, referrers: [] };
  const found = await target.referrers(descriptor, { artifactType });
  const referrers: Node[] = [];
  for (const referrer of found) {
    if (seen.has(referrer.digest)) continue;
    referrers.push(await walk(target, referrer, undefined, depth - 1, seen));
  }
  return { descriptor, referrers };
}

function tree(node: Node, prefix: string, lines: string[]): void {
  node.referrers.forEach((child, index) => {
    const last = index === node.referrers.length - 1;
    lines.push(
      `${prefix}${last ? '└── ' : '├── '}${child.descriptor.artifactType ?? child.descriptor.mediaType}`,
    );
    const inner = `${prefix}${last ? '    ' : '│   '}`;
    lines.push(`${inner}└── ${child.descriptor.digest}`);
    tree(child, `${inner}    `, lines);
  });
}

function json(node: Node, base: string): unknown {
  const { descriptor } = node;
  return {
    reference: `${base}@${descriptor.digest}`,
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(descriptor.artifactType ? { artifactType: descriptor.artifactType } : {}),
    ...(descriptor.annotations ? { annotations: descriptor.annotations } : {}),
    referrers: node.referrers.map((child) => json(child, base)),
  };
}

export async function run(context: Context, args: DiscoverArgs): Promise<void> {
  const ref = await openTarget(args.reference, context);
  const root = await resolveRoot(ref, args.platform, context);
  if ((args.output ?? (args.format as string)) === 'table') {
    const referrers = await ref.target.referrers(root, { artifactType: args['artifact-type'] });
    context.io.stdout(`${referrersTable(ref.display, root, referrers).join('\n')}\n`);
    return;
  }
  const node = await walk(
    ref.target,
    root,
    args['artifact-type'],
    args.depth ?? Number.POSITIVE_INFINITY,
    new Set(),
  );
  if ((args.output ?? args.format) === 'json') {
    context.io.stdout(`${JSON.stringify(json(node, ref.base), null, 2)}\n`);
    return;
  }
  const lines = [`${ref.base}@${root.digest}`];
  tree(node, '', lines);
  if (node.referrers.length === 0) lines.push('(no referrers)');
  context.io.stdout(`${lines.join('\n')}\n`);
}
