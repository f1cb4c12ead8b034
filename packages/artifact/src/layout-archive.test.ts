import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { computeDigest } from '@ferry/oci';
import { pack as tarPack } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveLayout, extractLayoutArchive } from './layout-archive.js';
import { OciLayoutTarget } from './oci-layout.js';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-archive-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function tarWith(entries: { name: string; type?: 'file' | 'symlink'; body?: string }[]) {
  const path = join(work, 'hostile.tar');
  const pack = tarPack();
  const written = pipeline(pack, createWriteStream(path));
  for (const { name, type = 'file', body = '' } of entries) {
    pack.entry(type === 'symlink' ? { name, type, linkname: '/etc/passwd' } : { name }, body);
  }
  pack.finalize();
  await written;
  return path;
}

describe('archiveLayout and extractLayoutArchive', () => {
  it('round-trips a layout: same files, same bytes, and the tar appears only whole', async () => {
    const layout = await OciLayoutTarget.open(join(work, 'src'));
    const bytes = Buffer.from('hello');
    const descriptor = {
      mediaType: 'application/octet-stream',
      digest: computeDigest(bytes),
      size: bytes.byteLength,
    };
    await layout.push(descriptor, bytes);
    const tar = join(work, 'out.tar');
    const size = await archiveLayout(join(work, 'src'), tar);
    expect(size).toBeGreaterThan(1024);
    expect((await readdir(work)).sort()).toEqual(['out.tar', 'src']); // no temporary left
    await mkdir(join(work, 'back'));
    await extractLayoutArchive(tar, join(work, 'back'));
    for (const name of ['oci-layout', 'index.json', `blobs/sha256/${descriptor.digest.slice(7)}`]) {
      expect(await readFile(join(work, 'back', name))).toEqual(
        await readFile(join(work, 'src', name)),
      );
    }
  });

  it('refuses entries outside the layout, naming them, and writes nothing there', async () => {
    for (const entry of [
      { name: '../escape' },
      { name: 'blobs/sha256/notahex' },
      { name: 'index.json', type: 'symlink' as const },
    ]) {
      const tar = await tarWith([{ name: 'oci-layout', body: '{}' }, entry]);
      const into = await mkdtemp(join(work, 'x-'));
      await expect(extractLayoutArchive(tar, into)).rejects.toThrow(
        `entry ${JSON.stringify(entry.name)}`,
      );
      await expect(readFile(join(work, 'escape'))).rejects.toThrow(/ENOENT/);
    }
  });

  it('refuses a tar without index.json and a file that is no tar', async () => {
    const tar = await tarWith([{ name: 'oci-layout', body: '{}' }]);
    await expect(extractLayoutArchive(tar, await mkdtemp(join(work, 'y-')))).rejects.toThrow(
      /no index.json/,
    );
    const junk = join(work, 'junk.tar');
    await writeFile(junk, 'this is not a tar archive at all, just some words'.repeat(20));
    await expect(extractLayoutArchive(junk, await mkdtemp(join(work, 'z-')))).rejects.toThrow(
      /junk.tar/,
    );
  });
});
