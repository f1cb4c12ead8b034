import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tarDirectory } from './tar-create.js';
import { applyDirectoryMetadata, extractTarGzip } from './tar-extract.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-tar-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const longName = `${'n'.repeat(120)}.txt`;

async function makeTree(root: string) {
  await mkdir(join(root, 'empty-dir'), { recursive: true });
  await mkdir(join(root, 'deep', 'er'), { recursive: true });
  await writeFile(join(root, 'empty.txt'), '');
  await writeFile(join(root, 'ünïcödé.txt'), 'unicode');
  await writeFile(join(root, 'deep', 'er', longName), 'long');
  await writeFile(join(root, 'big.bin'), Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a));
  await chmod(join(root, 'deep', 'er'), 0o750);
  await symlink(`er/${longName}`, join(root, 'deep', 'to-long'));
}

async function roundTrip(source: string, mtime?: number) {
  const gz = join(dir, 'layer.tar.gz');
  const result = await tarDirectory(source, 'top', gz, { mtime });
  const staging = join(dir, 'staging');
  await mkdir(staging);
  const directories = await extractTarGzip(createReadStream(gz), staging, 'top', {
    expectedTarDigest: result.tarDigest,
  });
  return { gz, result, staging, directories };
}

describe('tarDirectory', () => {
  it('reports the digests and sizes of the gzip and of the tar inside it', async () => {
    await makeTree(join(dir, 'src'));
    const gz = join(dir, 'out.tar.gz');
    const result = await tarDirectory(join(dir, 'src'), 'top/', gz);
    const bytes = await readFile(gz);
    const tar = gunzipSync(bytes);
    expect(result).toEqual({
      digest: sha256(bytes),
      size: bytes.byteLength,
      tarDigest: sha256(tar),
      tarSize: tar.byteLength,
    });
    expect(bytes[9]).toBe(0xff);
  });

  it('gives identical bytes for identical trees built in a different order', async () => {
    for (const [name, order] of [
      ['one', ['b', 'a', 'c']],
      ['two', ['c', 'a', 'b']],
    ] as const) {
      const root = join(dir, name);
      await mkdir(root);
      for (const file of order) await writeFile(join(root, file), file);
    }
    const one = await tarDirectory(join(dir, 'one'), 'x', join(dir, 'one.tgz'));
    const two = await tarDirectory(join(dir, 'two'), 'x', join(dir, 'two.tgz'));
    expect(two.digest).toBe(one.digest);
  });

  it('follows a root given as a symlink, but no symlink beneath it', async () => {
    await mkdir(join(dir, 'real'));
    await writeFile(join(dir, 'real', 'f'), 'f');
    await symlink('real', join(dir, 'alias'));
    await symlink('f', join(dir, 'real', 'g'));
    const { staging } = await roundTrip(join(dir, 'alias'));
    expect(await readFile(join(staging, 'f'), 'utf8')).toBe('f');
    expect(await readlink(join(staging, 'g'))).toBe('f');
  });

  it('never overwrites its destination, and removes it when it fails', async () => {
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'taken'), 'mine');
    await expect(tarDirectory(join(dir, 'src'), 'x', join(dir, 'taken'))).rejects.toThrow();
    expect(await readFile(join(dir, 'taken'), 'utf8')).toBe('mine');

    await writeFile(join(dir, 'src', 'f'), 'f');
    const controller = new AbortController();
    controller.abort();
    const target = join(dir, 'aborted.tgz');
    await expect(
      tarDirectory(join(dir, 'src'), 'x', target, { signal: controller.signal }),
    ).rejects.toThrow();
    await expect(stat(target)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('extractTarGzip', () => {
  it('round-trips long and unicode names, empty files and dirs, modes, symlinks and mtimes', async () => {
    await makeTree(join(dir, 'src'));
    const { staging, directories } = await roundTrip(join(dir, 'src'), 1234567890);
    expect((await readdir(staging)).sort()).toEqual(
      ['big.bin', 'deep', 'empty-dir', 'empty.txt', 'ünïcödé.txt'].sort(),
    );
    expect(await readFile(join(staging, 'deep', 'er', longName), 'utf8')).toBe('long');
    expect(
      (await readFile(join(staging, 'big.bin'))).equals(Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a)),
    ).toBe(true);
    expect(await readFile(join(staging, 'empty.txt'), 'utf8')).toBe('');
    expect(await readlink(join(staging, 'deep', 'to-long'))).toBe(`er/${longName}`);
    expect((await stat(join(staging, 'empty.txt'))).mtimeMs).toBe(1234567890 * 1000);

    // Directory metadata is handed back, to apply once the tree is in place.
    expect(directories.map((d) => d.segments.join('/')).sort()).toEqual(
      ['', 'deep', 'deep/er', 'empty-dir'].sort(),
    );
    await applyDirectoryMetadata(staging, directories);
    expect((await lstat(join(staging, 'deep', 'er'))).mode & 0o777).toBe(0o750);
    expect((await stat(join(staging, 'deep'))).mtimeMs).toBe(1234567890 * 1000);
  });

  it('passes the compressed bytes through the given streams first', async () => {
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'f'), 'f');
    const gz = join(dir, 'x.tgz');
    const { size } = await tarDirectory(join(dir, 'src'), 'x', gz);
    let seen = 0;
    const counter = new PassThrough();
    counter.on('data', (chunk: Buffer) => (seen += chunk.byteLength));
    await mkdir(join(dir, 'staging'));
    await extractTarGzip(createReadStream(gz), join(dir, 'staging'), 'x', { before: [counter] });
    expect(seen).toBe(size);
  });

  it('fails on a truncated archive', async () => {
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'f'), 'some content');
    const gz = join(dir, 'x.tgz');
    await tarDirectory(join(dir, 'src'), 'x', gz);
    const bytes = await readFile(gz);
    await mkdir(join(dir, 'staging'));
    await expect(
      extractTarGzip(
        Readable.from([bytes.subarray(0, bytes.length - 12)]),
        join(dir, 'staging'),
        'x',
      ),
    ).rejects.toThrow();
  });

  it('refuses an archive whose tar does not match the expected digest', async () => {
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'f'), 'f');
    const gz = join(dir, 'x.tgz');
    await tarDirectory(join(dir, 'src'), 'x', gz);
    await mkdir(join(dir, 'staging'));
    await expect(
      extractTarGzip(createReadStream(gz), join(dir, 'staging'), 'x', {
        expectedTarDigest: sha256(Buffer.from('something else')),
      }),
    ).rejects.toMatchObject({ code: 'ERR_DIGEST_MISMATCH' });
  });
});
