/** What `manifest index create` and `update` share: writing the index out, or pushing it. */
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { canPushTagged, type BuiltIndex } from '@ferry/artifact';
import { isDigest } from '@ferry/oci';
import type { Context, TargetRef } from '../context.js';
import { descriptorJson, printResult, printStatus } from '../output.js';
import { where } from './shared.js';

/**
 * Writes `bytes` to `path` through a temporary file beside it, fsync'ed before the rename and
 * the directory fsync'ed after, so that `path` holds either nothing new or the whole index.
 */
export async function writeFileDurably(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.ferry-${process.pid}.partial`);
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  const directory = await open(dirname(path), 'r').catch(() => undefined);
  if (directory) {
    await directory.sync().catch(() => {});
    await directory.close();
  }
}

/**
 * With `--output`: writes the index (to stdout for `-`, nothing else printed there) instead of
 * pushing. Otherwise pushes it under the reference's tag (or by digest) and adds `tags`.
 */
export async function deliverIndex(
  context: Context,
  ref: TargetRef,
  built: BuiltIndex,
  options: { output?: string | undefined; pretty?: boolean | undefined; tags: string[] },
): Promise<void> {
  const { descriptor, bytes } = built;
  const json = (extra: Record<string, unknown>) =>
    descriptorJson(`${ref.base}@${descriptor.digest}`, descriptor, extra);
  if (options.output === '-') {
    const text = options.pretty ? `${JSON.stringify(built.index, null, 2)}\n` : bytes;
    (context.io.stdoutStream ?? process.stdout).write(text);
    return;
  }
  if (options.output !== undefined) {
    await writeFileDurably(
      options.output,
      options.pretty ? Buffer.from(`${JSON.stringify(built.index, null, 2)}\n`) : bytes,
    );
    printResult(context, [`Digest: ${descriptor.digest}`], json({ path: options.output }));
    return;
  }
  const first = ref.reference && !isDigest(ref.reference) ? ref.reference : undefined;
  if (first && canPushTagged(ref.target)) {
    await ref.target.pushTagged(descriptor, bytes, first);
  } else {
    await ref.target.push(descriptor, bytes);
    if (first) await ref.target.tag(descriptor, first);
  }
  const display = first ? ref.display : `${ref.base}@${descriptor.digest}`;
  printStatus(context, 'Pushed', `${where(ref)} ${display}`);
  const extra = options.tags.filter((tag) => tag !== first);
  for (const tag of extra) {
    await ref.target.tag(descriptor, tag);
    printStatus(context, 'Tagged', tag);
  }
  printResult(
    context,
    [`Digest: ${descriptor.digest}`],
    json({ tags: [...(first ? [first] : []), ...extra] }),
  );
}

/** `Fetched  sha256:… tag`, or just the digest when the user gave one. */
export function fetchedLine(context: Context, verb: string, reference: string, digest: string) {
  printStatus(context, verb, isDigest(reference) ? reference : `${digest} ${reference}`);
}
