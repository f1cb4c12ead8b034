import type { Target } from '@ferry/artifact';
import { FerryError, type Descriptor } from '@ferry/oci';
import { DEFAULT_DISCOVER_DEPTH, MAX_DISCOVER_DEPTH, type DiscoverArgs } from './args/discover.js';
import { openTarget, type Context } from '../context.js';
import { referrersTable } from './discover-table.js';
import { resolveRoot } from './shared.js';
import { CliErrorCode } from '../errors.js';

export interface Node {
  descriptor: Descriptor;
  referrers: Node[];
}

/** Manifests one discover lists at most; a graph larger than this is refused, not half shown. */
export const MAX_DISCOVER_NODES = 10_000;

/**
 * Referrers of referrers, to `depth` levels, never visiting a manifest twice (cycles), level by
 * level with a queue: a chain thousands deep costs no stack. `truncated` says whether manifests
 * at the last level were left unexplored.
 */
export async function walk(
  target: Pick<Target, 'referrers'>,
  root: Descriptor,
  artifactType: string | undefined,
  depth: number,
  maxNodes = MAX_DISCOVER_NODES,
): Promise<{ node: Node; truncated: boolean }> {
  const seen = new Set<string>([root.digest]);
  const node: Node = { descriptor: root, referrers: [] };
  let level: Node[] = [node];
  let count = 1;
  for (let current = 0; level.length > 0; current++) {
    if (current >= depth) return { node, truncated: true };
    const next: Node[] = [];
    for (const parent of level) {
      // --artifact-type filters the first level only, as before (referrers of a signature are
      // whatever they are).
      const found = await target.referrers(parent.descriptor, {
        artifactType: current === 0 ? artifactType : undefined,
      });
      for (const referrer of found) {
        if (seen.has(referrer.digest)) continue;
        seen.add(referrer.digest);
        if (++count > maxNodes) {
          throw new FerryError(
            CliErrorCode.TooManyReferrers,
            `${root.digest} has more than ${maxNodes.toLocaleString('en-US')} referrers in all; narrow the walk with --depth or --artifact-type`,
          );
        }
        const child: Node = { descriptor: referrer, referrers: [] };
        parent.referrers.push(child);
        next.push(child);
      }
    }
    level = next;
  }
  return { node, truncated: false };
}

/** The tree drawing, depth first, with an explicit stack (no recursion). */
function tree(root: Node, lines: string[]): void {
  const stack: { children: Node[]; index: number; prefix: string }[] = [
    { children: root.referrers, index: 0, prefix: '' },
  ];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.index >= frame.children.length) {
      stack.pop();
      continue;
    }
    const child = frame.children[frame.index++]!;
    const last = frame.index === frame.children.length;
    lines.push(
      `${frame.prefix}${last ? '└── ' : '├── '}${child.descriptor.artifactType ?? child.descriptor.mediaType}`,
    );
    const inner = `${frame.prefix}${last ? '    ' : '│   '}`;
    lines.push(`${inner}└── ${child.descriptor.digest}`);
    stack.push({ children: child.referrers, index: 0, prefix: `${inner}    ` });
  }
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
  if ((args.output ?? args.format) === 'table') {
    const referrers = await ref.target.referrers(root, { artifactType: args['artifact-type'] });
    context.io.stdout(`${referrersTable(ref.display, root, referrers).join('\n')}\n`);
    return;
  }
  // --depth was checked as the command line was read.
  const depth = args.depth ?? DEFAULT_DISCOVER_DEPTH;
  const { node, truncated } = await walk(ref.target, root, args['artifact-type'], depth);
  if (truncated && args.depth === undefined) {
    context.io.stderr(
      `Note: referrers deeper than ${depth} levels are not shown; go deeper with --depth (up to ${MAX_DISCOVER_DEPTH})\n`,
    );
  }
  if ((args.output ?? args.format) === 'json') {
    context.io.stdout(`${JSON.stringify(json(node, ref.base), null, 2)}\n`);
    return;
  }
  const lines = [`${ref.base}@${root.digest}`];
  tree(node, lines);
  if (node.referrers.length === 0) lines.push('(no referrers)');
  context.io.stdout(`${lines.join('\n')}\n`);
}
