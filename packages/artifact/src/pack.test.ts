import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import {
  Annotation,
  EmptyJson,
  MediaType,
  computeDigest,
  parseManifest,
  type Descriptor,
} from '@ferry/oci';
import { extract, type Header } from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MediaTypeUnknownArtifact,
  MediaTypeUnknownConfig,
  pack,
  type PackOptions,
} from './pack.js';

let dir: string;
let staging: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-pack-test-'));
  staging = join(dir, 'staging');
  await mkdir(staging);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function tarEntries(tar: Buffer): Promise<{ header: Header; body: string }[]> {
  const entries: { header: Header; body: string }[] = [];
  const extractor = extract();
  const done = (async () => {
    for await (const entry of extractor) {
      entries.push({ header: entry.header, body: (await readAll(entry as never)).toString() });
    }
  })();
  extractor.end(tar);
  await done;
  return entries;
}

/** A small tree: tree/a.txt, tree/bin/run.sh (0755), tree/sub/deep/b.txt, tree/link -> a.txt. */
async function makeTree(root = join(dir, 'tree')) {
  await mkdir(join(root, 'sub', 'deep'), { recursive: true });
  await mkdir(join(root, 'bin'));
  await writeFile(join(root, 'a.txt'), 'alpha\n');
  await writeFile(join(root, 'bin', 'run.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'bin', 'run.sh'), 0o755);
  await writeFile(join(root, 'sub', 'deep', 'b.txt'), 'beta\n');
  await symlink('a.txt', join(root, 'link'));
  return root;
}

const packIn = (files: Parameters<typeof pack>[0], options: PackOptions = {}) =>
  pack(files, { tempDir: staging, ...options });

const sha256 = (data: Buffer | string) =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

describe('pack: files', () => {
  it('makes one layer per file, titled, digested from its bytes', async () => {
    await writeFile(join(dir, 'hello.txt'), 'hello\n');
    const packed = await packIn([{ path: join(dir, 'hello.txt'), title: 'hello.txt' }]);
    expect(packed.layers).toHaveLength(1);
    expect(packed.manifest.layers[0]).toEqual({
      mediaType: MediaType.OciLayer,
      digest: sha256('hello\n'),
      size: 6,
      annotations: { [Annotation.Title]: 'hello.txt' },
    });
    expect((await readAll(packed.layers[0]!.open())).toString()).toBe('hello\n');
    expect(packed.manifest.artifactType).toBe(MediaTypeUnknownArtifact);
    expect(packed.manifest.config).toEqual(EmptyJson);
    expect(packed.manifest.annotations).toBeUndefined();
    expect(packed.descriptor).toEqual({
      mediaType: MediaType.OciManifest,
      digest: computeDigest(packed.manifestBytes),
      size: packed.manifestBytes.byteLength,
      artifactType: MediaTypeUnknownArtifact,
    });
    const parsed = parseManifest(packed.manifestBytes, MediaType.OciManifest);
    expect(parsed.kind === 'manifest' && parsed.manifest).toEqual(packed.manifest);
  });

  it('titles files by the path as given, cleaned, unless a title is set', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.txt'), 'a');
    await writeFile(join(dir, 'b.bin'), 'b');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const packed = await packIn([
        { path: './sub//a.txt' },
        { path: 'b.bin', title: 'renamed.bin', mediaType: 'application/x-custom' },
      ]);
      expect(packed.manifest.layers.map((l) => l.annotations?.[Annotation.Title])).toEqual([
        'sub/a.txt',
        'renamed.bin',
      ]);
      expect(packed.manifest.layers[1]!.mediaType).toBe('application/x-custom');
    } finally {
      process.chdir(cwd);
    }
  });

  it('serialises deterministically, fields in ORAS order and annotation keys sorted', async () => {
    await writeFile(join(dir, 'f'), 'x');
    const options: PackOptions = {
      annotations: { zeta: 'z', '10': 'ten', '9': 'nine', alpha: 'a <b> & c' },
      fileAnnotations: { f: { 'com.example.b': '2', 'com.example.a': '1' } },
      subject: { mediaType: MediaType.OciManifest, digest: EmptyJson.digest, size: 2 },
    };
    const first = await packIn([{ path: join(dir, 'f'), title: 'f' }], options);
    const second = await packIn([{ path: join(dir, 'f'), title: 'f' }], options);
    expect(second.manifestBytes.equals(first.manifestBytes)).toBe(true);
    const text = first.manifestBytes.toString();
    const keys = Object.keys(JSON.parse(text) as object);
    expect(keys).toEqual([
      'schemaVersion',
      'mediaType',
      'artifactType',
      'config',
      'layers',
      'subject',
      'annotations',
    ]);
    expect(text).toContain(
      '"annotations":{"10":"ten","9":"nine","alpha":"a \\u003cb\\u003e \\u0026 c"',
    );
    expect(text).toContain(
      '{"com.example.a":"1","com.example.b":"2","org.opencontainers.image.title":"f"}',
    );
    expect(JSON.parse(text).annotations.alpha).toBe('a <b> & c');
  });

  it('refuses duplicate titles, naming the title', async () => {
    await writeFile(join(dir, 'a'), 'a');
    await writeFile(join(dir, 'b'), 'b');
    await expect(
      packIn([
        { path: join(dir, 'a'), title: 'same' },
        { path: join(dir, 'b'), title: 'same' },
      ]),
    ).rejects.toMatchObject({
      code: 'ERR_DUPLICATE_TITLE',
      message: expect.stringContaining('"same"'),
    });
  });

  it.each(['/etc/x', 'C:\\x', '\\\\server\\x', '../x', 'a/../../x', 'a\\..\\x'])(
    'refuses the unsafe title %j unless path validation is disabled',
    async (title) => {
      await writeFile(join(dir, 'f'), 'f');
      await expect(packIn([{ path: join(dir, 'f'), title }])).rejects.toMatchObject({
        code: 'ERR_UNSAFE_PATH',
        message: expect.stringContaining('--disable-path-validation'),
      });
      const packed = await packIn([{ path: join(dir, 'f'), title }], {
        disablePathValidation: true,
      });
      expect(packed.manifest.layers[0]!.annotations?.[Annotation.Title]).toBe(title);
    },
  );

  it('refuses an empty title even without path validation', async () => {
    await writeFile(join(dir, 'f'), 'f');
    for (const disablePathValidation of [false, true]) {
      await expect(
        packIn([{ path: join(dir, 'f'), title: '' }], { disablePathValidation }),
      ).rejects.toMatchObject({ code: 'ERR_UNSAFE_PATH' });
    }
  });

  it('ignores annotations for titles not in the artifact (as ORAS does), refuses missing files', async () => {
    await writeFile(join(dir, 'f'), 'f');
    const packed = await packIn([{ path: join(dir, 'f'), title: 'f' }], {
      fileAnnotations: { g: { k: 'v' } },
    });
    expect(packed.manifest.layers[0]!.annotations).toEqual({ [Annotation.Title]: 'f' });
    await expect(packIn([{ path: join(dir, 'missing'), title: 'm' }])).rejects.toMatchObject({
      code: 'ERR_FILE_NOT_FOUND',
    });
  });
});

describe('pack: directories', () => {
  it('packs a directory as a reproducible tar+gzip layer with ORAS annotations', async () => {
    const tree = await makeTree();
    const packed = await packIn([{ path: tree, title: 'tree' }]);
    const layer = packed.manifest.layers[0]!;
    expect(layer.mediaType).toBe(MediaType.OciLayerGzip);
    const gz = await readAll(packed.layers[0]!.open());
    expect(sha256(gz)).toBe(layer.digest);
    expect(gz.byteLength).toBe(layer.size);
    expect(gz[9]).toBe(0xff); // the gzip header's OS byte, as Go writes it
    const tar = gunzipSync(gz);
    expect(layer.annotations).toEqual({
      [Annotation.OrasContentDigest]: sha256(tar),
      [Annotation.OrasContentUnpack]: 'true',
      [Annotation.Title]: 'tree',
    });
    const entries = await tarEntries(tar);
    expect(entries.map((e) => e.header.name)).toEqual([
      'tree/',
      'tree/a.txt',
      'tree/bin/',
      'tree/bin/run.sh',
      'tree/link',
      'tree/sub/',
      'tree/sub/deep/',
      'tree/sub/deep/b.txt',
    ]);
    for (const { header } of entries) {
      expect(header).toMatchObject({ uid: 0, gid: 0, uname: '', gname: '' });
      expect(header.mtime.getTime()).toBe(0);
    }
    const byName = new Map(entries.map((e) => [e.header.name, e]));
    expect(byName.get('tree/bin/run.sh')!.header.mode & 0o777).toBe(0o755);
    expect(byName.get('tree/bin/run.sh')!.body).toBe('#!/bin/sh\necho hi\n');
    expect(byName.get('tree/link')!.header).toMatchObject({ type: 'symlink', linkname: 'a.txt' });
    expect(byName.get('tree/sub/')!.header.type).toBe('directory');
  });

  it('gives the same digests twice, even after every mtime changes', async () => {
    const tree = await makeTree();
    await writeFile(join(dir, 'plain.txt'), 'plain');
    const files = [
      { path: tree, title: 'tree' },
      { path: join(dir, 'plain.txt'), title: 'plain.txt' },
    ];
    const first = await packIn(files);
    for (const path of ['a.txt', 'bin/run.sh', 'sub/deep/b.txt', 'sub', '.']) {
      await utimes(join(tree, path), new Date(2001, 1, 1), new Date(2002, 2, 2));
    }
    await utimes(join(dir, 'plain.txt'), 1e6, 1e6);
    const second = await packIn(files);
    expect(second.manifest.layers[0]!.digest).toBe(first.manifest.layers[0]!.digest);
    expect(second.manifestBytes.equals(first.manifestBytes)).toBe(true);
  });

  it('uses SOURCE_DATE_EPOCH for the created annotation and tar mtimes', async () => {
    const tree = await makeTree();
    const packed = await packIn([{ path: tree, title: 'tree' }], { sourceDateEpoch: 1700000000 });
    expect(packed.manifest.annotations).toEqual({ [Annotation.Created]: '2023-11-14T22:13:20Z' });
    const entries = await tarEntries(gunzipSync(await readAll(packed.layers[0]!.open())));
    for (const { header } of entries) expect(header.mtime.getTime()).toBe(1700000000 * 1000);

    const given = await packIn([], {
      sourceDateEpoch: 1700000000,
      annotations: { [Annotation.Created]: '2020-01-01T00:00:00Z' },
    });
    expect(given.manifest.annotations?.[Annotation.Created]).toBe('2020-01-01T00:00:00Z');
    await expect(packIn([], { sourceDateEpoch: -1 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
    });
    await expect(
      packIn([], { annotations: { [Annotation.Created]: 'yesterday' } }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ANNOTATION' });
  });

  it('refuses a FIFO inside a directory, or given directly, and leaves nothing staged', async () => {
    const tree = await makeTree();
    execFileSync('mkfifo', [join(tree, 'sub', 'pipe')]);
    await expect(packIn([{ path: tree, title: 'tree' }])).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_FILE',
      message: expect.stringContaining('FIFO'),
    });
    await expect(packIn([{ path: join(tree, 'sub', 'pipe'), title: 'p' }])).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_FILE',
    });
    expect(await readdir(staging)).toEqual([]);
  });

  it('removes staged tarballs on cleanup', async () => {
    const packed = await packIn([{ path: await makeTree(), title: 'tree' }]);
    expect(await readdir(staging)).toHaveLength(1);
    await packed.cleanup();
    expect(await readdir(staging)).toEqual([]);
  });
});

describe('pack: manifest shapes', () => {
  it('v1.1 without files: the empty descriptor as config and as the only layer', async () => {
    const subject: Descriptor = {
      mediaType: MediaType.OciManifest,
      digest: sha256('s') as never,
      size: 1,
    };
    const packed = await packIn([], { subject, annotations: { k: 'v' }, artifactType: 'x/y' });
    expect(packed.manifest).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      artifactType: 'x/y',
      config: EmptyJson,
      layers: [EmptyJson],
      subject,
      annotations: { k: 'v' },
    });
    expect((await readAll(packed.layers[0]!.open())).toString()).toBe('{}');
    expect((await readAll(packed.config.open())).toString()).toBe('{}');
  });

  it('v1.0: no artifactType; the config `{}` carries the type', async () => {
    const packed = await packIn([], { imageSpec: 'v1.0', artifactType: 'application/vnd.me' });
    expect(packed.manifest).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: 'application/vnd.me', digest: EmptyJson.digest, size: 2 },
      layers: [],
    });
    expect(packed.descriptor.artifactType).toBe('application/vnd.me');
    const plain = await packIn([], { imageSpec: 'v1.0', configAnnotations: { a: 'b' } });
    expect(plain.manifest.config).toEqual({
      mediaType: MediaTypeUnknownConfig,
      digest: EmptyJson.digest,
      size: 2,
      annotations: { a: 'b' },
    });
  });

  it('a config without an artifact type selects v1.0, as ORAS does', async () => {
    await writeFile(join(dir, 'config.json'), '{"a":1}');
    const config = { path: join(dir, 'config.json'), mediaType: 'application/vnd.me.config' };
    const packed = await packIn([], { config, configAnnotations: { c: 'd' } });
    expect(packed.manifest.artifactType).toBeUndefined();
    expect(packed.manifest.layers).toEqual([]);
    expect(packed.manifest.config).toEqual({
      mediaType: 'application/vnd.me.config',
      digest: sha256('{"a":1}'),
      size: 7,
      annotations: { c: 'd' },
    });
    const typed = await packIn([], { config, artifactType: 'application/vnd.me' });
    expect(typed.manifest.artifactType).toBe('application/vnd.me');
    expect(typed.manifest.config.mediaType).toBe('application/vnd.me.config');
    const untyped = await packIn([], { config: { path: config.path }, imageSpec: 'v1.0' });
    expect(untyped.manifest.config.mediaType).toBe(MediaTypeUnknownConfig);
  });

  it('refuses the combinations ORAS refuses', async () => {
    await writeFile(join(dir, 'config.json'), '{}');
    const config = { path: join(dir, 'config.json') };
    const subject = { mediaType: MediaType.OciManifest, digest: EmptyJson.digest, size: 2 };
    for (const options of [
      { config, imageSpec: 'v1.1' },
      { config, imageSpec: 'v1.0', artifactType: 'a/b' },
      { subject, imageSpec: 'v1.0' },
    ] as PackOptions[]) {
      await expect(packIn([], options)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
    }
  });
});
