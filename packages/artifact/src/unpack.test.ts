import { createHash } from 'node:crypto';
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  readlink,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  Annotation,
  EmptyJson,
  FerryError,
  MediaType,
  type Descriptor,
  type Digest,
  type ImageManifest,
} from '@ferry/oci';
import { pack as tarPack, type Header } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pack, type PackedArtifact } from './pack.js';
import type { Fetcher } from './target.js';
import { globMatcher, selectLayers, unpack } from './unpack.js';

let dir: string;
let out: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-unpack-test-'));
  out = join(dir, 'out');
  await mkdir(out);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (data: Buffer | string) =>
  `sha256:${createHash('sha256').update(data).digest('hex')}` as Digest;

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Serves blobs from memory by digest, trusting whatever bytes it was given. */
class MemoryFetcher implements Fetcher {
  readonly blobs = new Map<string, Buffer>();

  async fetch(descriptor: Descriptor): Promise<Readable> {
    const bytes = this.blobs.get(descriptor.digest);
    if (!bytes) throw new FerryError('ERR_NOT_FOUND', `no blob ${descriptor.digest}`);
    return Readable.from([bytes]);
  }
}

async function publish(packed: PackedArtifact): Promise<MemoryFetcher> {
  const fetcher = new MemoryFetcher();
  for (const blob of [packed.config, ...packed.layers]) {
    fetcher.blobs.set(blob.descriptor.digest, await readAll(blob.open()));
  }
  return fetcher;
}

function manifestOf(layers: Descriptor[]): ImageManifest {
  return { schemaVersion: 2, mediaType: MediaType.OciManifest, config: EmptyJson, layers };
}

/** One file layer whose bytes are `content`, under any title, however hostile. */
function fileLayer(title: string, content = 'payload') {
  const bytes = Buffer.from(content);
  const descriptor: Descriptor = {
    mediaType: MediaType.OciLayer,
    digest: sha256(bytes),
    size: bytes.byteLength,
    annotations: { [Annotation.Title]: title },
  };
  const fetcher = new MemoryFetcher();
  fetcher.blobs.set(descriptor.digest, bytes);
  return { manifest: manifestOf([descriptor]), fetcher, descriptor };
}

type Entry = Partial<Header> & { name: string; body?: string };

/** A directory layer titled `dir` made of arbitrary tar entries. */
async function tarLayer(entries: Entry[], contentDigest?: string) {
  const packer = tarPack();
  for (const { body, ...header } of entries) {
    packer.entry({ mtime: new Date(0), ...header }, body ?? '');
  }
  packer.finalize();
  const tar = await readAll(packer);
  const gz = gzipSync(tar);
  const descriptor: Descriptor = {
    mediaType: MediaType.OciLayerGzip,
    digest: sha256(gz),
    size: gz.byteLength,
    annotations: {
      [Annotation.Title]: 'dir',
      [Annotation.OrasContentUnpack]: 'true',
      [Annotation.OrasContentDigest]: contentDigest ?? sha256(tar),
    },
  };
  const fetcher = new MemoryFetcher();
  fetcher.blobs.set(descriptor.digest, gz);
  return { manifest: manifestOf([descriptor]), fetcher };
}

async function makeTree(root: string) {
  await mkdir(join(root, 'sub', 'deep'), { recursive: true });
  await writeFile(join(root, 'a.txt'), 'alpha\n');
  await writeFile(join(root, 'run.sh'), '#!/bin/sh\n');
  await chmod(join(root, 'run.sh'), 0o750);
  await writeFile(join(root, 'sub', 'deep', 'b.bin'), Buffer.from([0, 1, 2, 255]));
  await chmod(join(root, 'sub'), 0o700);
  await symlink('../a.txt', join(root, 'sub', 'link'));
}

describe('unpack: round trip', () => {
  it('writes files and a nested directory with their bytes and modes', async () => {
    const source = join(dir, 'src');
    await makeTree(join(source, 'tree'));
    await writeFile(join(source, 'single.txt'), 'single');
    await chmod(join(source, 'single.txt'), 0o640);
    const packed = await pack(
      [
        { path: join(source, 'tree'), title: 'nested/tree' },
        { path: join(source, 'single.txt'), title: 'single.txt' },
      ],
      { tempDir: dir },
    );
    const progress = new Map<string, number>();
    const files = await unpack(packed.manifest, await publish(packed), {
      outputDir: out,
      onProgress: (title, bytes) => progress.set(title, (progress.get(title) ?? 0) + bytes),
    });
    await packed.cleanup();
    expect(files.map((f) => [f.title, f.directory, f.path])).toEqual([
      ['nested/tree', true, join(out, 'nested', 'tree')],
      ['single.txt', false, join(out, 'single.txt')],
    ]);
    expect(progress.get('nested/tree')).toBe(packed.manifest.layers[0]!.size);
    const tree = join(out, 'nested', 'tree');
    expect(await readFile(join(tree, 'a.txt'), 'utf8')).toBe('alpha\n');
    expect(await readFile(join(tree, 'sub', 'deep', 'b.bin'))).toEqual(Buffer.from([0, 1, 2, 255]));
    expect((await lstat(join(tree, 'run.sh'))).mode & 0o777).toBe(0o750);
    expect((await lstat(join(tree, 'sub'))).mode & 0o777).toBe(0o700);
    expect(await readlink(join(tree, 'sub', 'link'))).toBe('../a.txt');
    expect(await readFile(join(out, 'single.txt'), 'utf8')).toBe('single');
    expect((await readdir(out)).sort()).toEqual(['nested', 'single.txt']);
  });

  it('writes only the titles the include filter selects, and skips untitled layers', async () => {
    const a = fileLayer('a.txt', 'a');
    const b = fileLayer('docs/b.md', 'b');
    const untitled = { ...fileLayer('x').descriptor, annotations: {} };
    const fetcher = new MemoryFetcher();
    for (const source of [a, b]) for (const [k, v] of source.fetcher.blobs) fetcher.blobs.set(k, v);
    const manifest = manifestOf([a.descriptor, b.descriptor, untitled]);
    expect(selectLayers(manifest)).toEqual([a.descriptor, b.descriptor]);
    const files = await unpack(manifest, fetcher, {
      outputDir: out,
      include: globMatcher(['**/*.md']),
    });
    expect(files.map((f) => f.title)).toEqual(['docs/b.md']);
    expect(await readdir(out)).toEqual(['docs']);
  });
});

describe('unpack: overwriting', () => {
  it('replaces an existing file by default and refuses with keepOldFiles', async () => {
    const { manifest, fetcher } = fileLayer('f.txt', 'new');
    await writeFile(join(out, 'f.txt'), 'old');
    await expect(
      unpack(manifest, fetcher, { outputDir: out, keepOldFiles: true }),
    ).rejects.toMatchObject({ code: 'ERR_FILE_EXISTS' });
    expect(await readFile(join(out, 'f.txt'), 'utf8')).toBe('old');
    await unpack(manifest, fetcher, { outputDir: out });
    expect(await readFile(join(out, 'f.txt'), 'utf8')).toBe('new');
    expect(await readdir(out)).toEqual(['f.txt']);
  });

  it('merges a directory into an existing one, or refuses with keepOldFiles', async () => {
    const { manifest, fetcher } = await tarLayer([
      { name: 'dir/', type: 'directory', mode: 0o755 },
      { name: 'dir/a.txt', body: 'from the artifact' },
    ]);
    await mkdir(join(out, 'dir'));
    await writeFile(join(out, 'dir', 'a.txt'), 'mine');
    await writeFile(join(out, 'dir', 'keep.txt'), 'kept');
    await expect(
      unpack(manifest, fetcher, { outputDir: out, keepOldFiles: true }),
    ).rejects.toMatchObject({ code: 'ERR_FILE_EXISTS' });
    expect(await readFile(join(out, 'dir', 'a.txt'), 'utf8')).toBe('mine');
    await unpack(manifest, fetcher, { outputDir: out });
    expect(await readFile(join(out, 'dir', 'a.txt'), 'utf8')).toBe('from the artifact');
    expect(await readFile(join(out, 'dir', 'keep.txt'), 'utf8')).toBe('kept');
    expect(await readdir(out)).toEqual(['dir']);
  });
});

describe('unpack: verification', () => {
  it('leaves nothing behind when a file does not match its digest', async () => {
    const { manifest, fetcher, descriptor } = fileLayer('f.txt', 'genuine');
    fetcher.blobs.set(descriptor.digest, Buffer.from('forgery'));
    await expect(unpack(manifest, fetcher, { outputDir: out })).rejects.toMatchObject({
      code: 'ERR_DIGEST_MISMATCH',
    });
    expect(await readdir(out)).toEqual([]);
  });

  // Files up to 256 KiB are read whole and checked; larger ones are checked as they stream.
  it.each([
    ['small, one byte more', 'x'.repeat(1000), 'x'.repeat(1001), 'ERR_SIZE_MISMATCH'],
    ['small, one byte less', 'x'.repeat(1000), 'x'.repeat(999), 'ERR_SIZE_MISMATCH'],
    ['small, same size', 'x'.repeat(1000), `${'x'.repeat(999)}y`, 'ERR_DIGEST_MISMATCH'],
    ['large, one byte more', 'x'.repeat(300_000), 'x'.repeat(300_001), 'ERR_SIZE_MISMATCH'],
    ['large, same size', 'x'.repeat(300_000), `${'x'.repeat(299_999)}y`, 'ERR_DIGEST_MISMATCH'],
  ])(
    'refuses a file that is not what its descriptor says (%s)',
    async (_case, genuine, served, code) => {
      const { manifest, fetcher, descriptor } = fileLayer('f.txt', genuine);
      fetcher.blobs.set(descriptor.digest, Buffer.from(served));
      await expect(unpack(manifest, fetcher, { outputDir: out })).rejects.toMatchObject({ code });
      expect(await readdir(out)).toEqual([]);
    },
  );

  it('writes small and large files byte for byte, and reports progress for each', async () => {
    const small = fileLayer('small.txt', 'ab'.repeat(500));
    const large = fileLayer('large.txt', 'cd'.repeat(200_000));
    small.fetcher.blobs.set(large.descriptor.digest, Buffer.from('cd'.repeat(200_000)));
    const manifest = manifestOf([small.descriptor, large.descriptor]);
    const progress = new Map<string, number>();
    await unpack(manifest, small.fetcher, {
      outputDir: out,
      onProgress: (title, bytes) => progress.set(title, (progress.get(title) ?? 0) + bytes),
    });
    expect(await readFile(join(out, 'small.txt'), 'utf8')).toBe('ab'.repeat(500));
    expect(await readFile(join(out, 'large.txt'), 'utf8')).toBe('cd'.repeat(200_000));
    expect(Object.fromEntries(progress)).toEqual({ 'small.txt': 1000, 'large.txt': 400_000 });
    expect((await readdir(out)).sort()).toEqual(['large.txt', 'small.txt']);
  });

  it('leaves nothing behind when a directory layer does not match its digest', async () => {
    const { manifest, fetcher } = await tarLayer([{ name: 'dir/a.txt', body: 'a' }]);
    const [digest] = fetcher.blobs.keys();
    fetcher.blobs.set(digest!, gzipSync(Buffer.alloc(1024)));
    await expect(unpack(manifest, fetcher, { outputDir: out })).rejects.toMatchObject({
      code: expect.stringMatching(/^ERR_(DIGEST|SIZE)_MISMATCH$/),
    });
    expect(await readdir(out)).toEqual([]);
  });

  it('refuses a tar whose content digest annotation is wrong', async () => {
    const { manifest, fetcher } = await tarLayer([{ name: 'dir/a.txt', body: 'a' }], sha256('x'));
    await expect(unpack(manifest, fetcher, { outputDir: out })).rejects.toMatchObject({
      code: 'ERR_DIGEST_MISMATCH',
    });
    expect(await readdir(out)).toEqual([]);
  });
});

describe('unpack: aborting', () => {
  it.each([false, true])(
    'stops mid-stream and leaves nothing (directory: %s)',
    async (directory) => {
      const layer = directory
        ? await tarLayer([{ name: 'dir/big', body: 'x'.repeat(100_000) }])
        : fileLayer('slow.txt', 'x'.repeat(100_000));
      const [bytes] = layer.fetcher.blobs.values();
      const controller = new AbortController();
      const stalled = new PassThrough();
      stalled.write(bytes!.subarray(0, bytes!.length >> 1));
      const fetcher: Fetcher = {
        fetch: async () => {
          setTimeout(() => controller.abort(), 20);
          return stalled;
        },
      };
      const options = { outputDir: out, signal: controller.signal };
      await expect(unpack(layer.manifest, fetcher, options)).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(await readdir(out)).toEqual([]);
    },
  );
});

describe('unpack: hostile titles', () => {
  it.each(['../x', '/etc/x', 'a/../../x', 'C:\\x', '..\\x', '\\\\server\\share\\x', '.', 'a/..'])(
    'refuses %j and writes nothing anywhere',
    async (title) => {
      const { manifest, fetcher } = fileLayer(title);
      const error = await unpack(manifest, fetcher, { outputDir: out }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ERR_UNSAFE_PATH' });
      expect((error as Error).message).toContain('-T/--allow-path-traversal');
      expect((error as Error).message).toContain(JSON.stringify(title));
      expect(await readdir(out)).toEqual([]);
      expect(await readdir(dir)).toEqual(['out']);
    },
  );

  it('accepts a title that stays inside, and traversal when allowed', async () => {
    await unpack(fileLayer('a/../b.txt').manifest, fileLayer('a/../b.txt').fetcher, {
      outputDir: out,
    });
    expect(await readdir(out)).toEqual(['b.txt']);
    const { manifest, fetcher } = fileLayer('../beside.txt');
    await unpack(manifest, fetcher, { outputDir: out, allowPathTraversal: true });
    expect(await readFile(join(dir, 'beside.txt'), 'utf8')).toBe('payload');
  });

  it('refuses to write through a symlink in the output directory that leads outside', async () => {
    await mkdir(join(dir, 'elsewhere'));
    await symlink(join(dir, 'elsewhere'), join(out, 'link'));
    const { manifest, fetcher } = fileLayer('link/f.txt');
    await expect(unpack(manifest, fetcher, { outputDir: out })).rejects.toMatchObject({
      code: 'ERR_UNSAFE_PATH',
    });
    expect(await readdir(join(dir, 'elsewhere'))).toEqual([]);
  });

  it('refuses two layers with the same destination before writing either', async () => {
    const one = fileLayer('same.txt', 'one');
    const two = fileLayer('./same.txt', 'two');
    for (const [k, v] of two.fetcher.blobs) one.fetcher.blobs.set(k, v);
    const manifest = manifestOf([one.descriptor, two.descriptor]);
    await expect(unpack(manifest, one.fetcher, { outputDir: out })).rejects.toMatchObject({
      code: 'ERR_DUPLICATE_TITLE',
    });
    expect(await readdir(out)).toEqual([]);
  });
});

describe('unpack: hostile tarballs', () => {
  const file = (name: string): Entry => ({ name, body: 'x' });
  const sym = (name: string, linkname: string): Entry => ({ name, type: 'symlink', linkname });
  const hard = (name: string, linkname: string): Entry => ({ name, type: 'link', linkname });
  const cases: [string, Entry[]][] = [
    ['an entry ../evil', [file('../evil')]],
    ['an entry dir/../../evil', [file('dir/../../evil')]],
    ['an absolute entry', [file('/tmp/evil')]],
    ['an entry outside the title', [file('other/evil')]],
    [
      'a symlink to /etc, then a file through it',
      [sym('dir/link', '/etc'), file('dir/link/passwd')],
    ],
    ['a symlink climbing out', [sym('dir/sub/link', '../../..')]],
    ['a file written through an inside symlink', [sym('dir/self', '.'), file('dir/self/x')]],
    ['a hard link to /etc/passwd', [hard('dir/h', '/etc/passwd')]],
    ['a hard link to a later entry', [hard('dir/h', 'dir/a'), file('dir/a')]],
    [
      'a character device',
      [{ name: 'dir/null', type: 'character-device', devmajor: 1, devminor: 3 }],
    ],
    ['a FIFO', [{ name: 'dir/fifo', type: 'fifo' }]],
    ['a duplicate entry', [file('dir/a'), file('dir/a')]],
    ['a file where a directory was', [file('dir/a/b'), file('dir/a')]],
  ];

  it.each(cases)('refuses %s (ERR_UNSAFE_ARCHIVE) and leaves no directory', async (_, entries) => {
    const { manifest, fetcher } = await tarLayer([{ name: 'dir/', type: 'directory' }, ...entries]);
    await expect(unpack(manifest, fetcher, { outputDir: out })).rejects.toMatchObject({
      code: 'ERR_UNSAFE_ARCHIVE',
    });
    expect(await readdir(out)).toEqual([]);
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('accepts links that stay inside and implicit parent directories', async () => {
    const { manifest, fetcher } = await tarLayer([
      { name: './dir/x/y/a.txt', body: 'a' },
      { name: 'dir/x/hard', type: 'link', linkname: 'dir/x/y/a.txt' },
      { name: 'dir/x/soft', type: 'symlink', linkname: 'y/a.txt' },
      { name: 'dir/x/y/up', type: 'symlink', linkname: '../../x' },
    ]);
    await unpack(manifest, fetcher, { outputDir: out });
    expect(await readFile(join(out, 'dir', 'x', 'hard'), 'utf8')).toBe('a');
    expect(await readFile(join(out, 'dir', 'x', 'soft'), 'utf8')).toBe('a');
    expect((await lstat(join(out, 'dir', 'x', 'y', 'up'))).isSymbolicLink()).toBe(true);
  });
});

describe('globMatcher', () => {
  it.each([
    [['*.txt'], 'a.txt', true],
    [['*.txt'], 'dir/a.txt', false],
    [['**/*.txt'], 'a.txt', true],
    [['**/*.txt'], 'x/y/a.txt', true],
    [['docs/**'], 'docs/a/b', true],
    [['docs/**'], 'docsx/a', false],
    [['a?c'], 'abc', true],
    [['a?c'], 'a/c', false],
    [['[ab]*'], 'b1', true],
    [['[!ab]*'], 'b1', false],
    [['[a-c]x'], 'cx', true],
    [['\\*'], '*', true],
    [['\\*'], 'x', false],
    [['x', 'y'], 'y', true],
    [[], 'y', false],
  ])('%j matches %j: %s', (patterns, title, expected) => {
    expect(globMatcher(patterns)(title)).toBe(expected);
  });

  it('stays fast on patterns that make backtracking matchers explode', () => {
    const started = Date.now();
    expect(globMatcher(['*a*a*a*a*a*a*a*a*a*a*a*b'])('a'.repeat(5000))).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('unpack: nested titles, by ancestor lookup', () => {
  const layerOf = (title: string, bytes: Buffer) => ({
    mediaType: 'application/octet-stream',
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest,
    size: bytes.byteLength,
    annotations: { 'org.opencontainers.image.title': title },
  });
  const manifestOf = (titles: string[]) => ({
    schemaVersion: 2 as const,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: EmptyJson,
    layers: titles.map((t) => layerOf(t, Buffer.from(t))),
  });
  const fetcher = {
    fetch: async (d: { annotations?: Record<string, string> }) =>
      Readable.from([Buffer.from(d.annotations?.['org.opencontainers.image.title'] ?? '')]),
  };

  it.each([
    [['a', 'a/b/c'], 'a/b/c', 'a'],
    [['a/b/c', 'a'], 'a', 'a/b/c'],
    [['d/e', 'q', 'd/e/f/g'], 'd/e/f/g', 'd/e'],
  ])('refuses %j, naming both titles', async (titles, later, earlier) => {
    const out = await mkdtemp(join(tmpdir(), 'ferry-nested-'));
    try {
      await expect(unpack(manifestOf(titles), fetcher, { outputDir: out })).rejects.toMatchObject({
        code: 'ERR_DUPLICATE_TITLE',
        message: `layers "${later}" and "${earlier}" would be written one inside the other`,
      });
      expect(await readdir(out)).toEqual([]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('refuses nesting outside the output directory when traversal is allowed', async () => {
    const parent = await mkdtemp(join(tmpdir(), 'ferry-nested-'));
    const out = join(parent, 'out');
    try {
      await expect(
        unpack(manifestOf(['../p', '../p/q']), fetcher, {
          outputDir: out,
          allowPathTraversal: true,
        }),
      ).rejects.toMatchObject({ code: 'ERR_DUPLICATE_TITLE' });
      expect(await readdir(parent)).toEqual([]);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('writes siblings and names that only share a prefix', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ferry-nested-'));
    try {
      const titles = ['x', 'xy', 'd/a', 'd/b', 'd/c/e'];
      const files = await unpack(manifestOf(titles), fetcher, { outputDir: out });
      expect(files.map((f) => f.title)).toEqual(titles);
      for (const title of titles) expect(await readFile(join(out, title), 'utf8')).toBe(title);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});

describe('unpack: nested titles', () => {
  it('refuses x and x/y before writing either', async () => {
    const out = await mkdtemp(join(tmpdir(), 'ferry-nested-'));
    try {
      const a = Buffer.from('file x');
      const b = Buffer.from('file x/y');
      const layer = (title: string, bytes: Buffer) => ({
        mediaType: 'application/octet-stream',
        digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest,
        size: bytes.byteLength,
        annotations: { 'org.opencontainers.image.title': title },
      });
      const manifest = {
        schemaVersion: 2 as const,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: EmptyJson,
        layers: [layer('x/y', b), layer('x', a)],
      };
      const fetcher = { fetch: async () => Readable.from([a]) };
      await expect(unpack(manifest, fetcher, { outputDir: out })).rejects.toMatchObject({
        code: 'ERR_DUPLICATE_TITLE',
        message: expect.stringContaining('one inside the other'),
      });
      expect(await readdir(out)).toEqual([]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
