import { execFileSync } from 'node:child_process';
import { link, mkdtemp, readFile, rm, symlink, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPartialFile, readSideFile, SIDE_FILE_MAX_SIZE, writeNewFile } from './safe-files.js';

let dir: string;
let victim: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-safe-files-'));
  victim = join(dir, 'victim');
  await writeFile(victim, 'precious');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

describe('files in a cache someone else could have planted things in', () => {
  it('readSideFile reads a plain file, and nothing through a link, a FIFO or an oversized file', async () => {
    await writeFile(join(dir, 'plain'), '{"ok":1}');
    expect(await readSideFile(join(dir, 'plain'))).toBe('{"ok":1}');
    await symlink(victim, join(dir, 'linked'));
    expect(await readSideFile(join(dir, 'linked'))).toBeUndefined();
    await link(victim, join(dir, 'hard'));
    expect(await readSideFile(join(dir, 'hard'))).toBeUndefined();
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    // A FIFO with no writer would block a plain read forever.
    expect(await readSideFile(join(dir, 'fifo'))).toBeUndefined();
    await writeFile(join(dir, 'huge'), Buffer.alloc(SIDE_FILE_MAX_SIZE + 1));
    expect(await readSideFile(join(dir, 'huge'))).toBeUndefined();
    expect(await readSideFile(join(dir, 'missing'))).toBeUndefined();
  });

  it('writeNewFile replaces a planted link instead of writing through it', async () => {
    const path = join(dir, 'state.tmp');
    await symlink(victim, path);
    await writeNewFile(path, 'new state');
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect((await lstat(path)).isSymbolicLink()).toBe(false);
    expect(await readFile(path, 'utf8')).toBe('new state');
  });

  it('openPartialFile keeps a plain partial file, and replaces a link or a hard link', async () => {
    const partial = join(dir, 'blob.partial');
    await writeFile(partial, 'prefix');
    const kept = await openPartialFile(partial, true);
    expect((await kept.stat()).size).toBe(6);
    await kept.close();

    await rm(partial);
    await symlink(victim, partial);
    const replaced = await openPartialFile(partial, true);
    await replaced.write(Buffer.from('blob bytes'), 0, 10, 0);
    await replaced.close();
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect(await readFile(partial, 'utf8')).toBe('blob bytes');

    await rm(partial);
    await link(victim, partial);
    const unlinked = await openPartialFile(partial, true);
    expect((await unlinked.stat()).size).toBe(0);
    await unlinked.close();
    expect(await readFile(victim, 'utf8')).toBe('precious');
  });
});
