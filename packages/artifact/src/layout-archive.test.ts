import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
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

  it('fails with the write error, not waiting forever, when the output cannot be written', async () => {
    // A blob several times the tar stream's buffer, so its entry waits for 'drain' when the
    // output fails; a destroyed entry never drains, and the archive used to wait forever.
    const layout = await OciLayoutTarget.open(join(work, 'src'));
    const bytes = Buffer.alloc(4 * 1024 * 1024, 7);
    await layout.push(
      { mediaType: 'application/octet-stream', digest: computeDigest(bytes), size: bytes.length },
      bytes,
    );
    // The temporary file the archive is written through is /dev/full: every write is ENOSPC.
    const tar = join(work, 'out.tar');
    const temporary = join(work, `.out.tar.ferry-${process.pid}.partial`);
    await symlink('/dev/full', temporary);
    const error = await archiveLayout(join(work, 'src'), tar).catch((e: unknown) => e);
    // With the temporary's path, the CLI's file errors name the output ("cannot write out.tar").
    expect(error).toMatchObject({ code: 'ENOSPC', syscall: 'write', path: temporary });
    expect((await readdir(work)).sort()).toEqual(['src']); // no tar, no temporary

    // An output that cannot even be opened used to leave the entries waiting the same way.
    await expect(
      archiveLayout(join(work, 'src'), join(work, 'missing', 'out.tar')),
    ).rejects.toThrow(/ENOENT.*missing/);
    expect((await readdir(work)).sort()).toEqual(['src']);
  });

  it('reports a blob it cannot read as such, not as the output it then stopped', async () => {
    const layout = await OciLayoutTarget.open(join(work, 'src'));
    const bytes = Buffer.from('hello');
    await layout.push(
      { mediaType: 'application/octet-stream', digest: computeDigest(bytes), size: bytes.length },
      bytes,
    );
    // A directory where a blob should be: its entry fails reading it (EISDIR).
    await mkdir(join(work, 'src', 'blobs', 'sha256', 'a'.repeat(64)));
    await expect(archiveLayout(join(work, 'src'), join(work, 'out.tar'))).rejects.toMatchObject({
      code: 'EISDIR',
    });
    expect((await readdir(work)).sort()).toEqual(['src']);
  });
});
