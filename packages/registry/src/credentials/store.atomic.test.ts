import type * as FsPromises from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CredentialStore } from './store.js';

// Every fs/promises function stays real; only rename and write can be made to fail on demand,
// to stand for a crash or a full disk in the middle of an update.
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof FsPromises>();
  return { ...actual, rename: vi.fn(actual.rename), open: vi.fn(actual.open) };
});

let dir: string;
let file: string;
const original = JSON.stringify(
  { auths: { 'ghcr.io': { auth: 'dTpw' } }, unknown: [1, 2] },
  null,
  2,
);

beforeEach(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'ferry-atomic-'));
  file = join(dir, 'config.json');
  await fs.writeFile(file, original, { mode: 0o600 });
});
afterEach(async () => {
  vi.mocked(fs.rename).mockReset();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('atomic writes', () => {
  it('leaves the original intact and no temp file when the rename fails', async () => {
    vi.mocked(fs.rename).mockRejectedValueOnce(
      Object.assign(new Error('EIO: boom'), { code: 'EIO' }),
    );
    const store = new CredentialStore({ configPath: file });
    const error = await store
      .store('quay.io', { username: 'u', password: 'hunter2' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_CREDENTIALS_CONFIG' });
    expect((error as Error).message).toContain('EIO: boom');
    expect((error as Error).message).not.toContain('hunter2');
    expect(vi.mocked(fs.rename)).toHaveBeenCalledTimes(1);
    expect(await fs.readFile(file, 'utf8')).toBe(original);
    expect(await fs.readdir(dir)).toEqual(['config.json']);
  });

  it('leaves the original intact when writing the temp file fails half-way', async () => {
    const realOpen = (await vi.importActual<typeof FsPromises>('node:fs/promises')).open;
    vi.mocked(fs.open).mockImplementationOnce(async (path, flags, mode) => {
      const handle = await realOpen(path, flags, mode);
      // Write part of the data, then fail as a full disk would.
      handle.writeFile = async () => {
        await handle.write('{"auths": {');
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      };
      return handle;
    });
    const store = new CredentialStore({ configPath: file });
    await expect(store.store('quay.io', { username: 'u', password: 'p' })).rejects.toThrow(
      /ENOSPC/,
    );
    expect(await fs.readFile(file, 'utf8')).toBe(original);
    expect(await fs.readdir(dir)).toEqual(['config.json']);
    // The next attempt works and keeps the unknown field.
    await store.store('quay.io', { username: 'u', password: 'p' });
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toMatchObject({ unknown: [1, 2] });
  });
});

describe('durable writes (issue 13 item 8)', () => {
  it('writes config.json as write → fsync(file) → rename → fsync(directory)', async () => {
    const realOpen = (await vi.importActual<typeof FsPromises>('node:fs/promises')).open;
    const realRename = (await vi.importActual<typeof FsPromises>('node:fs/promises')).rename;
    const events: { step: string; path: string; size?: number }[] = [];
    vi.mocked(fs.open).mockImplementation(async (path, flags, mode) => {
      const handle = await realOpen(path, flags, mode);
      const sync = handle.sync.bind(handle);
      handle.sync = async () => {
        // What the file holds when its sync is asked for: the whole write must be in it.
        events.push({ step: 'fsync', path: String(path), size: (await handle.stat()).size });
        return sync();
      };
      return handle;
    });
    vi.mocked(fs.rename).mockImplementation(async (from, to) => {
      await realRename(from, to);
      events.push({ step: 'rename', path: `${String(from)} -> ${String(to)}` });
    });
    try {
      await new CredentialStore({ configPath: file }).store('quay.io', {
        username: 'u',
        password: 'p',
      });
    } finally {
      vi.mocked(fs.open).mockImplementation(realOpen);
      vi.mocked(fs.rename).mockImplementation(realRename);
    }
    const written = await fs.readFile(file);
    expect(JSON.parse(written.toString())).toMatchObject({ auths: { 'quay.io': {} } });
    expect(events.map((e) => e.step)).toEqual(['fsync', 'rename', 'fsync']);
    const [fileSync, rename, dirSync] = events;
    expect(rename?.path).toBe(`${fileSync?.path} -> ${file}`);
    expect(fileSync?.size).toBe(written.byteLength);
    expect(dirSync?.path).toBe(dir);
  });
});
