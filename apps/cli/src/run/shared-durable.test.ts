import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { durable } from '@ferry/artifact';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { writeFileAtomically } from './shared.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-cli-durable-'));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileAtomically (blob fetch -o, manifest fetch -o; issue 13 item 8)', () => {
  it('goes write → fsync(file) → rename → fsync(directory)', async () => {
    const steps: string[] = [];
    const { syncPath, rename, syncDirectory } = durable;
    vi.spyOn(durable, 'syncPath').mockImplementation(async (path) => {
      steps.push(`fsync ${(await readFile(path, 'utf8')).length} bytes`);
      return syncPath(path);
    });
    vi.spyOn(durable, 'rename').mockImplementation(async (from, to) => {
      steps.push(`rename to ${to}`);
      return rename(from, to);
    });
    vi.spyOn(durable, 'syncDirectory').mockImplementation(async (path) => {
      steps.push(`fsync dir ${path}`);
      return syncDirectory(path);
    });
    const target = join(dir, 'blob.bin');
    await writeFileAtomically(target, Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    expect(steps).toEqual([
      'fsync 11 bytes',
      `rename to ${target}`,
      `fsync dir ${dirname(target)}`,
    ]);
    expect(await readFile(target, 'utf8')).toBe('hello world');
    expect(await readdir(dir)).toEqual(['blob.bin']);
  });
});
