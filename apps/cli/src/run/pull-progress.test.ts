// pullProgress wraps a target's file copies (the download cache's copyTo) so that their bytes
// move the bars as they arrive; a target without that capability is read as a stream only.
import { canCopyTo, MemoryTarget, type FetchOptions } from '@ferry/artifact';
import type { Descriptor } from '@ferry/oci';
import { describe, expect, it } from 'vitest';
import { Progress } from '../progress.js';
import { pullProgress } from './pull-progress.js';

/** A Progress that records what it is told instead of drawing. */
class RecordingProgress extends Progress {
  readonly events: string[] = [];
  constructor(enabled = true) {
    super(enabled, () => {});
  }
  override startNamed(key: string, name: string, total: number): void {
    this.events.push(`start ${key.slice(7, 11)} ${name} ${total}`);
  }
  override advanceNamed(key: string, bytes: number): void {
    this.events.push(`advance ${key.slice(7, 11)} ${bytes}`);
  }
  override finishNamed(key: string): void {
    this.events.push(`finish ${key.slice(7, 11)}`);
  }
}

/** A memory target with a copyTo that reports its bytes in two halves, as a cache does. */
class CopyingTarget extends MemoryTarget {
  readonly copied: string[] = [];
  async copyTo(descriptor: Descriptor, path: string, options?: FetchOptions): Promise<void> {
    this.copied.push(path);
    const half = Math.floor(descriptor.size / 2);
    options?.onProgress?.(half);
    options?.onProgress?.(descriptor.size - half);
  }
}

async function layerIn(target: MemoryTarget, text: string): Promise<Descriptor> {
  const descriptor = await target.add(text);
  return { ...descriptor, annotations: { 'org.opencontainers.image.title': `${text}.txt` } };
}

describe('pullProgress', () => {
  it('moves a bar as a file copy reports bytes, and ignores unpack’s one report after it', async () => {
    const target = new CopyingTarget();
    const layer = await layerIn(target, 'abcdef');
    const id = layer.digest.slice(7, 11);
    const progress = new RecordingProgress();
    const { fetcher, onProgress } = pullProgress(target, [layer], progress);
    if (!canCopyTo(fetcher)) throw new Error('expected the copy capability to be kept');
    const seen: number[] = [];
    await fetcher.copyTo(layer, '/dev/null/x', { onProgress: (bytes) => seen.push(bytes) });
    onProgress('abcdef.txt', 6);
    expect(target.copied).toEqual(['/dev/null/x']);
    expect(seen).toEqual([3, 3]);
    expect(progress.events).toEqual([
      `start ${id} Downloading abcdef.txt 6`,
      `advance ${id} 3`,
      `advance ${id} 3`,
      `finish ${id}`,
    ]);
  });

  it('offers no copy for a target without one, and moves bars from unpack’s reports', async () => {
    const target = new MemoryTarget();
    const layer = await layerIn(target, 'xyz');
    const id = layer.digest.slice(7, 11);
    const progress = new RecordingProgress();
    const { fetcher, onProgress } = pullProgress(target, [layer], progress);
    expect(canCopyTo(fetcher)).toBe(false);
    onProgress('xyz.txt', 3);
    onProgress('unknown.txt', 5);
    expect(progress.events).toEqual([
      `start ${id} Downloading xyz.txt 3`,
      `advance ${id} 3`,
      `finish ${id}`,
    ]);
  });

  it('hands the target itself through when progress is off', async () => {
    const target = new CopyingTarget();
    const layer = await layerIn(target, 'q');
    const { fetcher } = pullProgress(target, [layer], new RecordingProgress(false));
    expect(fetcher).toBe(target);
  });
});
