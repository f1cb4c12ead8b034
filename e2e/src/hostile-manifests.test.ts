// Hostile manifests and references given to the CLI: a 5 MiB manifest, JSON nested 100,000 deep,
// truncated JSON and other malformed documents for `ferry manifest push`, and digests of unknown
// algorithms or the wrong length in references. All are refused before anything is sent: the
// "registry" here is a fake that records every request (support/hostile-server.ts), and it must
// see none.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry, type CliResult } from './support/cli.js';
import { sendError, startFakeServer, type FakeServer } from './support/hostile-server.js';
import { artifactManifest } from './support/hostile-tar.js';

let base: string;
let server: FakeServer;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'ferry-hostile-manifests-'));
  server = await startFakeServer((_req, res) => sendError(res, 404, 'NOT_FOUND'));
});

afterAll(async () => {
  await server?.close();
  if (base) await rm(base, { recursive: true, force: true });
});

const run = (args: string[]): Promise<CliResult> =>
  ferry(args, { env: { DOCKER_CONFIG: join(base, 'docker'), FERRY_CACHE: join(base, 'cache') } });

function errorLine(result: CliResult): string {
  return result.stderr.split('\n').find((line) => line.startsWith('Error: ')) ?? '';
}

function expectRefusedLocally(result: CliResult, codes: number[] = [1]): void {
  expect(codes, result.stderr).toContain(result.code);
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/\n\s+at |RangeError|Maximum call stack/);
  expect(server.requests).toEqual([]);
}

const layer = {
  digest: `sha256:${'a'.repeat(64)}`,
  size: 1,
  annotations: { 'org.opencontainers.image.title': 'a.txt' },
};
const valid = artifactManifest([layer]);

describe('hostile manifests (ferry manifest push)', () => {
  const cases: [string, string | Buffer, RegExp][] = [
    [
      'a 5 MiB manifest',
      artifactManifest([
        { ...layer, annotations: { ...layer.annotations, pad: 'x'.repeat(5 * 1024 * 1024) } },
      ]),
      /^Error: manifest of \d+ bytes exceeds the 4194304-byte limit/,
    ],
    [
      'arrays nested 100,000 deep',
      `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
      /^Error: invalid manifest: /,
    ],
    [
      'objects nested 100,000 deep',
      `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`,
      /^Error: invalid manifest: /,
    ],
    [
      'truncated JSON',
      valid.slice(0, Math.floor(valid.length / 2)),
      /^Error: invalid manifest: \(root\): not valid JSON/,
    ],
    ['an empty file', '', /^Error: invalid manifest: \(root\): not valid JSON/],
    [
      'invalid UTF-8',
      Buffer.concat([Buffer.from(valid.slice(0, -2)), Buffer.from([0xc3, 0x28]), Buffer.from('}')]),
      /^Error: invalid manifest: \(root\): not valid JSON/,
    ],
    [
      'a layer digest of an unknown algorithm (md5)',
      artifactManifest([{ ...layer, digest: 'md5:d41d8cd98f00b204e9800998ecf8427e' }]),
      /^Error: invalid manifest: layers\[0\]\.digest: .*md5/,
    ],
    [
      'a layer digest of the wrong length',
      artifactManifest([{ ...layer, digest: 'sha256:abc' }]),
      /^Error: invalid manifest: layers\[0\]\.digest: .*64 hex digits/,
    ],
    [
      'a negative layer size',
      artifactManifest([{ ...layer, size: -1 }]),
      /^Error: invalid manifest: layers\[0\]\.size/,
    ],
  ];

  it.each(cases)('refuses %s: exit 1, a clear message, nothing sent', async (what, bytes, why) => {
    const file = join(base, `${what.replaceAll(/\W+/g, '-')}.json`);
    await writeFile(file, bytes);
    const result = await run(['manifest', 'push', `${server.host}/r:v1`, file, '--plain-http']);
    expectRefusedLocally(result);
    expect(errorLine(result)).toMatch(why);
  });

  it('also refuses the 5 MiB manifest on stdin', async () => {
    const big = artifactManifest([{ ...layer, annotations: { pad: 'y'.repeat(5 * 1024 * 1024) } }]);
    const result = await ferry(['manifest', 'push', `${server.host}/r:v1`, '-', '--plain-http'], {
      env: { DOCKER_CONFIG: join(base, 'docker'), FERRY_CACHE: join(base, 'cache') },
      input: big,
    });
    expectRefusedLocally(result);
    expect(errorLine(result)).toMatch(/exceeds the 4194304-byte limit/);
    expect(result.stderr).toContain('Hint: Registries refuse manifests over 4 MiB');
  });
});

describe('hostile digests in references', () => {
  const hex64 = 'a'.repeat(64);
  const cases: [string, string, string][] = [
    [
      'an unknown algorithm (md5)',
      '@md5:d41d8cd98f00b204e9800998ecf8427e',
      'unsupported algorithm "md5"',
    ],
    ['an unknown algorithm (foo+bar)', '@foo+bar:abc', 'unsupported algorithm "foo+bar"'],
    ['a malformed algorithm', '@:abc', 'malformed algorithm'],
    ['sha256 with 3 hex digits', '@sha256:abc', 'sha256 digests have 64 hex digits, not 3'],
    ['sha256 with 65 hex digits', `@sha256:${hex64}a`, 'sha256 digests have 64 hex digits, not 65'],
    ['sha256 in upper case', `@sha256:${hex64.toUpperCase()}`, 'sha256 digests are lowercase hex'],
    ['sha512 with 64 hex digits', `@sha512:${hex64}`, 'sha512 digests have 128 hex digits, not 64'],
    ['a tag and a non-hex digest', ':v1@sha256:xyz', 'sha256 digests are lowercase hex'],
  ];

  it.each(cases)(
    'resolve refuses %s: exit 1, names the reference and the problem, nothing sent',
    async (_what, suffix, problem) => {
      const ref = `${server.host}/r${suffix}`;
      const result = await run(['resolve', ref, '--plain-http']);
      expectRefusedLocally(result, [1, 2]);
      expect(errorLine(result)).toBe(
        `Error: invalid reference ${JSON.stringify(ref)}: invalid digest: ${problem}${problem.startsWith('unsupported') ? ' (ferry supports sha256 and sha512)' : ''}`,
      );
      expect(result.stderr).toContain('Hint: References look like registry/repository');
    },
  );

  it('pull, blob fetch and manifest fetch refuse them the same way', async () => {
    const md5 = `${server.host}/r@md5:d41d8cd98f00b204e9800998ecf8427e`;
    const short = `${server.host}/r@sha256:abc`;
    const results = await Promise.all([
      run(['pull', short, '-o', join(base, 'pulled'), '--plain-http']),
      run(['blob', 'fetch', md5, '-o', join(base, 'blob'), '--plain-http']),
      run(['manifest', 'fetch', short, '--plain-http']),
    ]);
    for (const result of results) {
      expectRefusedLocally(result, [1, 2]);
      expect(errorLine(result)).toMatch(/^Error: invalid reference ".*": invalid digest: /);
    }
  });
});
