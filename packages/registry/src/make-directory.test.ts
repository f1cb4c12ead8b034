import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirectory } from './make-directory.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-mkdir-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const procfs = process.platform === 'linux' && existsSync('/proc/self');

describe('makeDirectory', () => {
  it('makes every missing level, each with the mode asked for', async () => {
    const deep = join(dir, 'a', 'b', 'c');
    await makeDirectory(deep, { mode: 0o700 });
    for (const level of [join(dir, 'a'), join(dir, 'a', 'b'), deep]) {
      const info = await stat(level);
      expect(info.isDirectory()).toBe(true);
      expect(info.mode & 0o777).toBe(0o700);
    }
  });

  it('resolves for a directory that exists, and for two makers of one path at once', async () => {
    await makeDirectory(dir);
    const shared = join(dir, 'x', 'y', 'z');
    await Promise.all([makeDirectory(shared), makeDirectory(shared), makeDirectory(shared)]);
    expect((await stat(shared)).isDirectory()).toBe(true);
  });

  it('rejects as mkdir does when a file is in the way', async () => {
    const file = join(dir, 'file');
    await writeFile(file, 'x');
    await expect(makeDirectory(file)).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(makeDirectory(join(file, 'below'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  // Node 20's recursive mkdir never settles here (ENOENT, then EEXIST for /proc, for ever).
  it.skipIf(!procfs)(
    'rejects at once, naming the path, where the file system refuses new directories (/proc)',
    async () => {
      const error = await makeDirectory('/proc/ferry-test/x').then(
        () => undefined,
        (e: unknown) => e as NodeJS.ErrnoException,
      );
      expect(error?.code).toBe('ENOENT');
      expect(error?.message).toBe(
        'cannot create the directory /proc/ferry-test/x: /proc exists, but its file system does not let /proc/ferry-test be made in it; choose a directory elsewhere',
      );
      await expect(makeDirectory('/proc/x', { mode: 0o700 })).rejects.toThrow(
        /^cannot create the directory \/proc\/x: /,
      );
    },
    1000,
  );
});
