import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack as tarPack, type Header } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MediaType, type ImageManifest } from '@ferry/oci';
import { MemoryFetcher } from './memory-fetcher.test.helpers.js';
import { pullModel, selectFiles } from './pull.js';
import { readModel } from './read.js';

let dir: string;
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'ferry-pull-'))));
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function tarOf(
  entries: (Partial<Header> & { name: string; body?: string })[],
): Promise<Buffer> {
  const archive = tarPack();
  for (const { body, ...header } of entries) {
    archive.entry({ type: 'file', mode: 0o644, ...header }, body ?? '');
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every file under `root` with its contents. */
async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      out[path.slice(root.length + 1)] = await readFile(path, 'utf8');
    }
  }
  return out;
}

function modelPack(fetcher: MemoryFetcher): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    artifactType: 'application/vnd.cncf.model.manifest.v1+json',
    config: fetcher.add('{}', 'application/vnd.cncf.model.config.v1+json'),
    layers: [
      fetcher.add('WEIGHTS', 'application/vnd.cncf.model.weight.v1.raw', {
        'org.cncf.model.filepath': 'w/model.safetensors',
      }),
      fetcher.add('{"a":1}', 'application/vnd.cncf.model.weight.config.v1.raw', {
        'org.cncf.model.filepath': 'config.json',
      }),
      fetcher.add('# hi', 'application/vnd.cncf.model.doc.v1.raw', {
        'org.cncf.model.filepath': 'README.md',
      }),
    ],
  };
}

describe('pullModel', () => {
  it('writes raw layers at their file paths, and fetches only what --only selects', async () => {
    const fetcher = new MemoryFetcher();
    const manifest = modelPack(fetcher);
    const view = readModel(manifest, {});
    const selected = selectFiles(view, { only: ['weights'] });
    const pulled = await pullModel(fetcher, selected, { outputDir: dir });
    expect(pulled.map((p) => p.written)).toEqual([['w/model.safetensors']]);
    expect(await tree(dir)).toEqual({ 'w/model.safetensors': 'WEIGHTS' });
    expect(fetcher.fetched).toEqual([manifest.layers[0]?.digest]);
  });

  // Node 20's recursive mkdir never settles under /proc: this pull hung for ever.
  it.skipIf(process.platform !== 'linux' || !existsSync('/proc/self'))(
    'fails at once, naming it, for an output directory under /proc (tar layers too)',
    async () => {
      const fetcher = new MemoryFetcher();
      const codeTar = await tarOf([{ name: 'src/lib/util.py', body: 'x = 1' }]);
      const manifest: ImageManifest = {
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: fetcher.add('{}', 'application/vnd.kitops.modelkit.config.v1+json'),
        layers: [fetcher.add(codeTar, 'application/vnd.kitops.modelkit.code.v1.tar')],
      };
      const view = readModel(manifest, { code: [{ path: 'src' }] });
      await expect(
        pullModel(fetcher, selectFiles(view), { outputDir: '/proc/ferry-test/out' }),
      ).rejects.toThrow(/^cannot create the directory \/proc\/ferry-test\/out(\/[a-z]+)*: /);
    },
    1000,
  );

  it('selects paths with --include globs', async () => {
    const fetcher = new MemoryFetcher();
    const view = readModel(modelPack(fetcher), {});
    expect(
      selectFiles(view, { include: ['*.json', '**/*.safetensors'] }).map((f) => f.path),
    ).toEqual(['w/model.safetensors', 'config.json']);
    expect(
      selectFiles(view, { only: ['docs', 'config'], include: ['README*'] }).map((f) => f.path),
    ).toEqual(['README.md']);
  });

  it('unpacks KitOps tar layers at their Kitfile paths (file and directory, plain and gzip)', async () => {
    const fetcher = new MemoryFetcher();
    const modelTar = await tarOf([{ name: 'models/m.gguf', body: 'GGUF...' }]);
    const codeTar = gzipSync(
      await tarOf([
        { name: 'src', type: 'directory', mode: 0o755 },
        { name: 'src/train.py', body: 'print(1)' },
        { name: 'src/lib/util.py', body: 'x = 1', mode: 0o755 },
      ]),
    );
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: fetcher.add('{}', 'application/vnd.kitops.modelkit.config.v1+json'),
      layers: [
        fetcher.add(modelTar, 'application/vnd.kitops.modelkit.model.v1.tar'),
        fetcher.add(codeTar, 'application/vnd.kitops.modelkit.code.v1.tar+gzip'),
      ],
    };
    const view = readModel(manifest, { model: { path: 'models/m.gguf' }, code: [{ path: 'src' }] });
    const pulled = await pullModel(fetcher, selectFiles(view), { outputDir: dir });
    expect(pulled.map((p) => p.written)).toEqual([
      ['models/m.gguf'],
      ['src/train.py', 'src/lib/util.py'],
    ]);
    expect(await tree(dir)).toEqual({
      'models/m.gguf': 'GGUF...',
      'src/train.py': 'print(1)',
      'src/lib/util.py': 'x = 1',
    });
  });

  it.each([
    ['../escape', 'contains a ".." segment'],
    ['/etc/passwd', 'absolute'],
    ['other/file', "lies outside the layer's path"],
  ])('refuses a tar entry %s, writing nothing', async (name, problem) => {
    const fetcher = new MemoryFetcher();
    const tar = await tarOf([
      { name: 'models/ok.bin', body: 'fine' },
      { name, body: 'evil' },
    ]);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: fetcher.add('{}', 'application/vnd.kitops.modelkit.config.v1+json'),
      layers: [
        fetcher.add(tar, 'application/vnd.kitops.modelkit.model.v1.tar', {
          'org.cncf.model.filepath': 'models',
        }),
      ],
    };
    const out = join(dir, 'out');
    await expect(
      pullModel(fetcher, readModel(manifest, {}).files, { outputDir: out }),
    ).rejects.toMatchObject({
      code: 'ERR_UNSAFE_ARCHIVE',
      message: expect.stringContaining(problem),
    });
    expect(await tree(dir)).toEqual({});
  });

  it('refuses symlink entries and a parent that is a symlink out of the output directory', async () => {
    const fetcher = new MemoryFetcher();
    const linkTar = await tarOf([{ name: 'models/l', type: 'symlink', linkname: '/etc/passwd' }]);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: fetcher.add('{}', 'application/vnd.kitops.modelkit.config.v1+json'),
      layers: [
        fetcher.add(linkTar, 'application/vnd.kitops.modelkit.model.v1.tar', {
          'org.cncf.model.filepath': 'models',
        }),
      ],
    };
    await expect(
      pullModel(fetcher, readModel(manifest, {}).files, { outputDir: join(dir, 'a') }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('symlink entries are not allowed'),
    });
    const out = join(dir, 'b');
    const outside = join(dir, 'outside');
    await mkdir(out);
    await mkdir(outside);
    await symlink(outside, join(out, 'models'));
    const fileTar = await tarOf([{ name: 'models/x.bin', body: 'x' }]);
    const second: ImageManifest = {
      ...manifest,
      layers: [
        fetcher.add(fileTar, 'application/vnd.kitops.modelkit.model.v1.tar', {
          'org.cncf.model.filepath': 'models',
        }),
      ],
    };
    await expect(
      pullModel(fetcher, readModel(second, {}).files, { outputDir: out }),
    ).rejects.toMatchObject({
      code: 'ERR_UNSAFE_PATH',
    });
    expect(await readdir(outside)).toEqual([]);
  });

  it('writes nothing from a tar layer whose digest does not verify', async () => {
    const fetcher = new MemoryFetcher();
    const tar = await tarOf([{ name: 'models/m.bin', body: 'good' }]);
    const descriptor = fetcher.add(tar, 'application/vnd.kitops.modelkit.model.v1.tar', {
      'org.cncf.model.filepath': 'models/m.bin',
    });
    const tampered = Buffer.from(tar);
    tampered[512] = 'b'.charCodeAt(0) ^ 1; // the first byte of the file's body
    fetcher.blobs.set(descriptor.digest, tampered);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: fetcher.add('{}', 'application/vnd.kitops.modelkit.config.v1+json'),
      layers: [descriptor],
    };
    await expect(
      pullModel(fetcher, readModel(manifest, {}).files, { outputDir: dir }),
    ).rejects.toMatchObject({
      code: 'ERR_DIGEST_MISMATCH',
    });
    expect(await tree(dir)).toEqual({});
  });

  it('refuses a raw file path that escapes the output directory', async () => {
    const fetcher = new MemoryFetcher();
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: fetcher.add('{}', 'application/vnd.cncf.model.config.v1+json'),
      layers: [
        fetcher.add('x', 'application/vnd.cncf.model.weight.v1.raw', {
          'org.cncf.model.filepath': '../x.bin',
        }),
      ],
    };
    await expect(
      pullModel(fetcher, readModel(manifest, {}).files, { outputDir: join(dir, 'o') }),
    ).rejects.toMatchObject({
      code: 'ERR_UNSAFE_PATH',
    });
    expect(fetcher.fetched).toEqual([]);
  });
});
