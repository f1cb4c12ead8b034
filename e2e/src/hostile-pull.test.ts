// Hostile artifacts at the CLI: manifests whose layer titles escape the output directory, and
// directory layers whose tarballs try to write outside it, published with `ferry blob push` and
// `ferry manifest push` (which, unlike `ferry push`, do not check titles) to a real registry:2
// and pulled with `ferry pull`. Every refusal must exit 1, say why, and leave the whole directory
// around the output untouched.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { ferry, type CliResult } from './support/cli.js';
import {
  artifactManifest,
  EMPTY_CONFIG,
  listTree,
  sha256Hex,
  tarGz,
  type HostileEntry,
} from './support/hostile-tar.js';

let reg: TestRegistry;
let base: string;

beforeAll(async () => {
  reg = await startRegistry({ mode: 'anonymous' });
  base = await mkdtemp(join(tmpdir(), 'ferry-hostile-pull-'));
});

afterAll(async () => {
  await reg?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

/** The built CLI with a Docker config of its own (so no stored credentials leak in). */
const run = (args: string[]): Promise<CliResult> =>
  ferry(args, { env: { DOCKER_CONFIG: join(base, 'docker'), FERRY_CACHE: join(base, 'cache') } });

async function ok(args: string[]): Promise<CliResult> {
  const result = await run(args);
  expect(result.code, `ferry ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result;
}

/** Pushes bytes as a blob with `ferry blob push`; returns the digest. */
async function pushBlob(repo: string, bytes: Buffer | string): Promise<string> {
  const hex = sha256Hex(bytes);
  const file = join(base, `blob-${hex}`);
  await writeFile(file, bytes);
  await ok(['blob', 'push', `${reg.host}/${repo}`, file]);
  return `sha256:${hex}`;
}

/** Pushes a hand-written manifest with `ferry manifest push` under `repo:tag`. */
async function pushManifest(repo: string, tag: string, text: string): Promise<string> {
  const file = join(base, `manifest-${repo.replaceAll('/', '_')}-${tag}.json`);
  await writeFile(file, text);
  await ok(['manifest', 'push', `${reg.host}/${repo}:${tag}`, file]);
  return `${reg.host}/${repo}:${tag}`;
}

/** A fresh directory holding an empty `out`; the whole directory is listed before and after. */
async function workspace(): Promise<{ work: string; out: string; before: string[] }> {
  const work = await mkdtemp(join(base, 'work-'));
  const out = join(work, 'out');
  await mkdir(out);
  return { work, out, before: await listTree(work) };
}

function firstLine(result: CliResult): string {
  return result.stderr.split('\n').find((line) => line.startsWith('Error: ')) ?? '';
}

function expectCleanFailure(result: CliResult): void {
  expect(result.code, result.stderr).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
}

describe('hostile layer titles (ferry pull)', () => {
  const repo = 'hostile/titles';
  const content = 'a file that must not land outside the output directory\n';
  let digest: string;

  beforeAll(async () => {
    [digest] = await Promise.all([
      pushBlob(repo, content),
      pushBlob(repo, Buffer.from(atob(EMPTY_CONFIG.data))),
    ]);
  });

  const titled = (title: string, tag: string) =>
    pushManifest(
      repo,
      tag,
      artifactManifest([
        {
          digest,
          size: Buffer.byteLength(content),
          annotations: { 'org.opencontainers.image.title': title },
        },
      ]),
    );

  const titles = [
    ['../x', 'parent', 'it resolves outside'],
    ['/etc/x', 'absolute', 'it is an absolute path'],
    ['a/../../x', 'dotdot', 'it resolves outside'],
    ['C:\\x', 'drive', 'it is an absolute path'],
  ] as const;
  const refs = new Map<string, string>();

  beforeAll(async () => {
    await Promise.all(
      titles.map(async ([title, tag]) => refs.set(title, await titled(title, tag))),
    );
  });

  it.each(titles)(
    'refuses the title %s: exit 1, names it and -T, writes nothing anywhere',
    async (title, _tag, why) => {
      const existedBefore = existsSync('/etc/x');
      const ref = refs.get(title) ?? '';
      const { work, out, before } = await workspace();
      const result = await run(['pull', ref, '-o', out]);
      expectCleanFailure(result);
      const line = firstLine(result);
      expect(line).toContain(`refusing to write ${JSON.stringify(title)}`);
      expect(line).toContain(why);
      expect(line).toContain('-T/--allow-path-traversal');
      expect(await listTree(work)).toEqual(before);
      expect(existsSync(join(base, 'x'))).toBe(false);
      expect(existsSync('/etc/x')).toBe(existedBefore);
    },
  );

  it('control: with -T the ../x title is written where it points', async () => {
    const ref = await titled('../x', 'control');
    const { work, out } = await workspace();
    await ok(['pull', ref, '-o', out, '-T']);
    expect(await readFile(join(work, 'x'), 'utf8')).toBe(content);
    expect(await listTree(work)).toEqual(['out/', `x (${Buffer.byteLength(content)} bytes)`]);
  });

  const layerTitled = (title: string, size = Buffer.byteLength(content)) => ({
    digest,
    size,
    annotations: { 'org.opencontainers.image.title': title },
  });

  // unpack() promises that "an unsafe or clashing name stops the pull with nothing written".
  it.each([
    ['x, then x/y', 'clash1', ['x', 'x/y']],
    ['x/y, then x', 'clash2', ['x/y', 'x']],
  ] as const)(
    'refuses titles %s (a file that is also a directory): exit 1, a clear message, nothing written',
    async (_what, tag, order) => {
      const ref = await pushManifest(repo, tag, artifactManifest(order.map((t) => layerTitled(t))));
      const { work, out, before } = await workspace();
      const result = await run(['pull', ref, '-o', out]);
      expectCleanFailure(result);
      const line = firstLine(result);
      expect(line).not.toMatch(/EISDIR|ENOTDIR|EEXIST|ENOTEMPTY/); // a raw errno is no explanation
      expect(line).toContain('"x');
      expect(await listTree(work)).toEqual(before);
    },
  );

  it.each([
    ['larger', 1],
    ['smaller', -1],
  ] as const)(
    'a layer whose declared size is %s than its blob: exit 1 with a size mismatch, no crash, nothing written',
    async (what, delta) => {
      const size = Buffer.byteLength(content) + delta;
      const ref = await pushManifest(
        repo,
        `size-${what}`,
        artifactManifest([layerTitled('sized.txt', size)]),
      );
      const { work, out, before } = await workspace();
      const result = await run(['pull', ref, '-o', out]);
      expect(result.stderr).not.toMatch(/Unhandled 'error' event|RequestAbortedError/);
      expectCleanFailure(result);
      expect(firstLine(result)).toMatch(
        new RegExp(`size mismatch.*expected ${size} bytes, got ${Buffer.byteLength(content)}`),
      );
      expect(await listTree(work)).toEqual(before);
    },
  );
});

describe('hostile directory tarballs (ferry pull of io.deis.oras.content.unpack layers)', () => {
  const repo = 'hostile/dirs';
  const dir: HostileEntry = { type: 'dir', name: 'dir/' };
  const cases: { name: string; entries: HostileEntry[]; entry: string; why: RegExp }[] = [
    {
      name: 'a symlink pointing out, then a file through it',
      entries: [
        dir,
        { type: 'symlink', name: 'dir/escape', target: '../../../victim' },
        { type: 'file', name: 'dir/escape/pwned' },
      ],
      entry: 'dir/escape',
      why: /symbolic link to "..\/..\/..\/victim" leads outside/,
    },
    {
      name: 'an absolute symlink, then a file through it',
      entries: [
        dir,
        { type: 'symlink', name: 'dir/abs', target: '/tmp' },
        { type: 'file', name: 'dir/abs/pwned' },
      ],
      entry: 'dir/abs',
      why: /symbolic link to "\/tmp" is empty or absolute/,
    },
    {
      name: 'a symlink inside, then a file through it',
      entries: [
        dir,
        { type: 'dir', name: 'dir/sub/' },
        { type: 'symlink', name: 'dir/alias', target: 'sub' },
        { type: 'file', name: 'dir/alias/pwned' },
      ],
      entry: 'dir/alias/pwned',
      why: /lies beneath a symbolic link/,
    },
    {
      name: 'a hard link to /etc/passwd',
      entries: [dir, { type: 'link', name: 'dir/passwd', target: '/etc/passwd' }],
      entry: 'dir/passwd',
      why: /hard link to "\/etc\/passwd", not a file extracted before it/,
    },
    {
      name: 'a character device entry',
      entries: [dir, { type: 'char', name: 'dir/null', major: 1, minor: 3 }],
      entry: 'dir/null',
      why: /character-device entries are not allowed/,
    },
    {
      name: 'duplicate entries',
      entries: [
        dir,
        { type: 'file', name: 'dir/a', content: 'first\n' },
        { type: 'file', name: 'dir/a', content: 'second\n' },
      ],
      entry: 'dir/a',
      why: /appears twice/,
    },
    {
      name: 'a .. entry name',
      entries: [dir, { type: 'file', name: 'dir/../../x' }],
      entry: 'dir/../../x',
      why: /contains a "\.\." segment/,
    },
  ];
  const refs = new Map<string, string>();

  beforeAll(async () => {
    await pushBlob(repo, Buffer.from(atob(EMPTY_CONFIG.data)));
    await Promise.all(
      cases.map(async (c, i) => {
        const tarball = tarGz(c.entries);
        await pushBlob(repo, tarball.bytes);
        const manifest = artifactManifest([
          {
            digest: tarball.digest,
            size: tarball.bytes.byteLength,
            mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
            annotations: {
              'org.opencontainers.image.title': 'dir',
              'io.deis.oras.content.digest': tarball.tarDigest,
              'io.deis.oras.content.unpack': 'true',
            },
          },
        ]);
        refs.set(c.name, await pushManifest(repo, `case${i}`, manifest));
      }),
    );
  });

  it.each(cases.map((c) => [c.name, c] as const))(
    'refuses %s: exit 1, names the entry, leaves no directory behind',
    async (_name, c) => {
      const passwd = await stat('/etc/passwd');
      const { work, out, before } = await workspace();
      const result = await run(['pull', refs.get(c.name) ?? '', '-o', out]);
      expectCleanFailure(result);
      const line = firstLine(result);
      expect(line).toContain(`unsafe archive entry ${JSON.stringify(c.entry)}`);
      expect(line).toMatch(c.why);
      // Neither the final directory nor its staging directory (.dir.ferry-*.partial) is left.
      expect(await listTree(work)).toEqual(before);
      expect(existsSync(join(base, 'victim'))).toBe(false);
      expect(existsSync('/tmp/pwned')).toBe(false);
      expect((await stat('/etc/passwd')).nlink).toBe(passwd.nlink);
    },
  );
});
