/** ORAS's `--descriptor` output: the descriptor alone, compact or (`--pretty`) indented. */
import type { Descriptor } from '@ferry/oci';
import type { Context } from '../context.js';

/** The descriptor's fields in Go's order (mediaType, digest, size, urls, annotations, …). */
export function plainDescriptor(descriptor: Descriptor): Descriptor {
  return {
    mediaType: descriptor.mediaType,
    digest: descriptor.digest,
    size: descriptor.size,
    ...(descriptor.urls ? { urls: descriptor.urls } : {}),
    ...(descriptor.annotations ? { annotations: descriptor.annotations } : {}),
    ...(descriptor.data !== undefined ? { data: descriptor.data } : {}),
    ...(descriptor.platform ? { platform: descriptor.platform } : {}),
    ...(descriptor.artifactType ? { artifactType: descriptor.artifactType } : {}),
  };
}

export function printDescriptor(
  context: Context,
  descriptor: Descriptor,
  pretty: boolean | undefined,
): void {
  const plain = plainDescriptor(descriptor);
  context.io.stdout(`${pretty ? JSON.stringify(plain, null, 2) : JSON.stringify(plain)}\n`);
}

/** Runs `tasks` with at most `concurrency` at once (ORAS's `--concurrency` for tagging). */
export async function runLimited(
  tasks: readonly (() => Promise<void>)[],
  concurrency: number,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let task = tasks[next++]; task; task = tasks[next++]) await task();
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, tasks.length)) }, worker),
  );
}
