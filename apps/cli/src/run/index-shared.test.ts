import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileDurably } from './index-shared.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-durable-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeFileDurably', () => {
  it('replaces the file whole and leaves no temporary beside it', async () => {
    const path = join(dir, 'index.json');
    await writeFile(path, 'old');
    await writeFileDurably(path, Buffer.from('{"new":true}'));
    expect(await readFile(path, 'utf8')).toBe('{"new":true}');
    expect(await readdir(dir)).toEqual(['index.json']);
  });

  it('fails on a missing directory without creating anything', async () => {
    await expect(
      writeFileDurably(join(dir, 'missing', 'index.json'), Buffer.from('x')),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves an existing file as it was when the rename cannot happen', async () => {
    const path = join(dir, 'taken');
    await writeFile(join(dir, 'keep'), 'kept');
    // A directory at the final path: the rename fails, and the temporary goes.
    await mkdir(path);
    await writeFile(join(path, 'inside'), 'x');
    await expect(writeFileDurably(path, Buffer.from('new'))).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['keep', 'taken']);
  });
});
