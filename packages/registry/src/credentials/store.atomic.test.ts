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
