// The README's promises about output, against registry:2: every command's `--format json` is one
// document that passes the schema (apps/cli/src/result-schema.ts), bottle commands included;
// errors that need a registry or another user name what the user gave and what to do.
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkResultDocument } from '@ferry/cli';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBottleRegistry } from './support/bottle-fixture.js';
import { makeTab, writeBottle, type Bottle } from './support/bottle-tarball.js';
import { digestOf, spawnFerry } from './support/cli-fixture.js';

const fx = useBottleRegistry('anonymous');
let work = '';
let bottle: Bottle;
const where = () => ['--registry', fx.host];

async function json(args: string[], options: { content?: boolean } = {}) {
  const result = await fx.ok([...args, '--format', 'json'], { cwd: work });
  expect(
    checkResultDocument(result.stdout, options),
    `${args.join(' ')}\n${result.stdout}`,
  ).toEqual([]);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

beforeAll(async () => {
  work = await fx.dir('work');
  await writeFile(join(work, 'hello.txt'), 'hello, registry\n');
  bottle = await writeBottle(work, {
    name: 'hello',
    version: '1.0',
    tag: 'x86_64_linux',
    receipt: { ...makeTab({ dependencies: [] }), poured_from_bottle: false },
  });
});

describe('--format json against registry:2: one document per command, by digest', () => {
  it('push, pull, fetch, copy, tag, attach, discover, delete', async () => {
    const repo = `${fx.host}/contract/files`;
    const pushed = await json(['push', `${repo}:v1,latest`, 'hello.txt']);
    const digest = pushed.digest as string;
    expect(pushed.reference).toBe(`${repo}@${digest}`);
    await json(['pull', `${repo}:v1`, '-o', 'pulled']);
    await json(['resolve', `${repo}:v1`]);
    await json(['tag', `${repo}:v1`, 'stable']);
    const fetched = await json(['manifest', 'fetch', `${repo}:v1`]);
    expect(fetched.content).toMatchObject({ schemaVersion: 2 });
    const config = await json(['manifest', 'fetch-config', `${repo}:v1`]);
    expect(config).toMatchObject({ mediaType: 'application/vnd.oci.empty.v1+json', content: {} });
    const layer = digestOf('hello, registry\n');
    const blob = await json(['blob', 'fetch', `${repo}@${layer}`, '-o', 'blob.bin']);
    expect(blob).toMatchObject({ digest: layer, size: 16, path: join(work, 'blob.bin') });
    await json(['blob', 'push', repo, 'hello.txt']);
    await json(['cp', `${repo}:v1`, `${fx.host}/contract/copy:v1`]);
    await json(['attach', `${repo}:v1`, '--artifact-type', 'x/y', 'hello.txt']);
    await json(['discover', `${repo}:v1`]);
    await json(['manifest', 'delete', `${fx.host}/contract/copy:v1`, '--force']);
    await json(['repo', 'tags', repo], { content: false });
  });

  it('bottle push, info, pull and mirror: one document each, with size, by digest', async () => {
    const pushed = await json(['bottle', 'push', bottle.path, ...where()]);
    expect(pushed).toMatchObject({
      reference: `${fx.host}/homebrew/core/hello@${String(pushed.digest)}`,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      referenceAsTag: `${fx.host}/homebrew/core/hello:1.0`,
    });
    expect(pushed.images).toHaveLength(1);

    const info = await json(['bottle', 'info', 'hello', ...where()]);
    expect(info).toMatchObject({ digest: pushed.digest, size: pushed.size });

    const out = await fx.dir('bottle-out');
    const pulled = await json([
      'bottle',
      'pull',
      'hello',
      '--tag',
      'x86_64_linux',
      ...where(),
      '-o',
      out,
    ]);
    expect(pulled).toMatchObject({
      reference: `${fx.host}/homebrew/core/hello@sha256:${bottle.sha256}`,
      digest: `sha256:${bottle.sha256}`,
      size: bottle.bytes.byteLength,
      formula: 'hello',
    });
    expect(pulled.bottles).toHaveLength(1);

    const mirrored = await json([
      'bottle',
      'mirror',
      'hello',
      ...where(),
      '--to',
      `${fx.host}/mirror`,
    ]);
    // A mirror keeps each image's path under its prefix, where brew looks for it.
    expect(mirrored).toMatchObject({
      reference: `${fx.host}/mirror/homebrew/core/hello@${String(pushed.digest)}`,
      size: pushed.size,
    });
  });
});

describe('errors name what the user gave', () => {
  it('manifest push with missing blobs names them and says to push blobs first', async () => {
    const repo = `${fx.host}/contract/missing`;
    const layer = `sha256:${'1'.repeat(64)}`;
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
        size: 2,
      },
      layers: [{ mediaType: 'application/octet-stream', digest: layer, size: 5 }],
    };
    await writeFile(join(work, 'm.json'), JSON.stringify(manifest));
    const result = await fx.run(['manifest', 'push', `${repo}:v1`, 'm.json'], { cwd: work });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toBe(
      `Error: m.json references blobs that ${repo} does not have: config sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a, layers[0] ${layer}; push those blobs to ${repo} first (ferry blob push ${repo} <file>), then the manifest`,
    );
    expect(result.stderr).not.toContain('400');
  });

  it('an unwritable output directory is named (no .partial temp file in the message)', async () => {
    const repo = `${fx.host}/contract/unwritable`;
    await fx.ok(['push', `${repo}:v1`, 'hello.txt'], { cwd: work });
    // root writes anywhere: then ferry runs as nobody, in a directory nobody may enter.
    const asNobody = process.getuid?.() === 0;
    const open = await mkdtemp(join(tmpdir(), 'ferry-e2e-unwritable-'));
    try {
      for (const name of ['cache', 'docker']) await mkdir(join(open, name), { mode: 0o777 });
      await chmod(open, 0o755);
      await Promise.all(['cache', 'docker'].map((name) => chmod(join(open, name), 0o777)));
      const locked = join(open, 'locked');
      await mkdir(locked);
      await chmod(locked, 0o555);
      const result = await spawnFerry(['pull', `${repo}:v1`, '-o', 'locked'], {
        cwd: open,
        env: { FERRY_CACHE: join(open, 'cache'), DOCKER_CONFIG: join(open, 'docker') },
        ...(asNobody ? { uid: 65534, gid: 65534 } : {}),
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `Error: -o locked: cannot write in ${locked} (permission denied); choose a directory you can write to, or change its permissions\n`,
      );
      expect(result.stderr).not.toContain('.partial');
      expect(await readdir(locked)).toEqual([]);
    } finally {
      await rm(open, { recursive: true, force: true });
    }
  });
});
