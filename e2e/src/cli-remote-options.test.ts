// Issue 18 item 3 against registry:2: mutual TLS with a client CA (--cert-file/--key-file, and
// cp's --from-cert-file/--from-key-file), and --distribution-spec forcing the referrers API or
// the referrers tag schema on attach and discover.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRegistry, type TestRegistry } from './harness/index.js';
import { spawnFerry, type FerryResult } from './support/cli-fixture.js';
import { scratch } from './support/interop-tools.js';

const dirs = scratch('remote-options');
let work: string;
let mtls: TestRegistry;
let plain: TestRegistry;

beforeAll(async () => {
  [mtls, plain] = await Promise.all([
    startRegistry({ mode: 'tls', clientCa: true }),
    startRegistry({ mode: 'anonymous' }),
  ]);
  work = await dirs.make();
  await writeFile(join(work, 'a.txt'), 'over mutual TLS\n');
  await writeFile(join(work, 'sig.txt'), 'a signature\n');
});

afterAll(async () => {
  await Promise.all([mtls?.stop(), plain?.stop()]);
  await dirs.cleanup();
});

function ferry(...args: string[]): Promise<FerryResult> {
  return spawnFerry(args, {
    cwd: work,
    env: { DOCKER_CONFIG: work, FERRY_CACHE: join(work, 'cache') },
  });
}

async function ferryOk(...args: string[]): Promise<string> {
  const result = await ferry(...args);
  expect(result.code, `ferry ${args.join(' ')}\n${result.stderr}`).toBe(0);
  return result.stdout;
}

describe('mutual TLS (registry:2 with http.tls.clientcas)', () => {
  const tlsFlags = () => ['--ca-file', mtls.caFile ?? ''];
  const certFlags = () => [
    '--cert-file',
    mtls.clientCert?.certFile ?? '',
    '--key-file',
    mtls.clientCert?.keyFile ?? '',
  ];

  it('pushes and pulls with the client certificate; without it the registry refuses', async () => {
    const ref = `${mtls.host}/mtls/a:v1`;
    await ferryOk('push', ref, 'a.txt', ...tlsFlags(), ...certFlags());
    await ferryOk('pull', ref, '-o', 'pulled', ...tlsFlags(), ...certFlags());
    expect(await readFile(join(work, 'pulled', 'a.txt'), 'utf8')).toBe('over mutual TLS\n');

    const refused = await ferry('pull', ref, '-o', 'refused', ...tlsFlags());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'Hint: the registry may require a client certificate: give --cert-file',
    );
  });

  it('cp takes the source’s CA and client certificate with --from-ca-file/--from-cert-file/--from-key-file', async () => {
    const source = `${mtls.host}/mtls/cp:v1`;
    await ferryOk('push', source, 'a.txt', ...tlsFlags(), ...certFlags());
    const destination = `${plain.host}/from-mtls/cp:v1`;
    // --from-ca-file, not --ca-file: the plain-http destination must not be asked for TLS.
    const result = await ferry(
      'cp',
      source,
      destination,
      '--from-ca-file',
      mtls.caFile ?? '',
      '--from-cert-file',
      mtls.clientCert?.certFile ?? '',
      '--from-key-file',
      mtls.clientCert?.keyFile ?? '',
    );
    expect(result.code, result.stderr).toBe(0);
    await ferryOk('pull', destination, '-o', 'copied');
    expect(await readFile(join(work, 'copied', 'a.txt'), 'utf8')).toBe('over mutual TLS\n');
  });

  it('refuses --cert-file without --key-file, exit 2, before connecting', async () => {
    const result = await ferry(
      'pull',
      `${mtls.host}/mtls/a:v1`,
      '--cert-file',
      mtls.clientCert?.certFile ?? '',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--cert-file needs --key-file');
  });
});

describe('--distribution-spec on registry:2 (no referrers API)', () => {
  async function subject(name: string): Promise<{ repo: string; digest: string }> {
    const repo = `${plain.host}/spec/${name}`;
    const out = await ferryOk('push', `${repo}:v1`, 'a.txt', '--format', 'json');
    return { repo, digest: (JSON.parse(out) as { digest: string }).digest };
  }
  const tagOf = (digest: string) => digest.replace(':', '-');
  const referrers = async (...args: string[]) =>
    (
      JSON.parse(await ferryOk('discover', '--format', 'json', ...args)) as {
        referrers: { artifactType: string }[];
      }
    ).referrers.map((r) => r.artifactType);

  it('v1.1-referrers-tag: attach keeps the sha256-<hex> index, and discover reads only it', async () => {
    const { repo, digest } = await subject('tag');
    await ferryOk(
      'attach',
      `${repo}:v1`,
      'sig.txt',
      '--artifact-type',
      'x/sig',
      '--distribution-spec',
      'v1.1-referrers-tag',
    );
    const index = JSON.parse(await ferryOk('manifest', 'fetch', `${repo}:${tagOf(digest)}`)) as {
      manifests: { artifactType: string }[];
    };
    expect(index.manifests.map((m) => m.artifactType)).toEqual(['x/sig']);
    expect(await referrers(`${repo}:v1`, '--distribution-spec', 'v1.1-referrers-tag')).toEqual([
      'x/sig',
    ]);
  });

  it('v1.1-referrers-api: attach leaves no tag, and discover asks the API, which registry:2 lacks', async () => {
    const { repo, digest } = await subject('api');
    await ferryOk(
      'attach',
      `${repo}:v1`,
      'sig.txt',
      '--artifact-type',
      'x/sig',
      '--distribution-spec',
      'v1.1-referrers-api',
    );
    const tag = await ferry('manifest', 'fetch', `${repo}:${tagOf(digest)}`);
    expect(tag.code).toBe(1);
    // By default ferry falls back to the tag schema, which holds nothing for this subject.
    expect(await referrers(`${repo}:v1`)).toEqual([]);
    const api = await ferry('discover', `${repo}:v1`, '--distribution-spec', 'v1.1-referrers-api');
    expect(api.code).toBe(1);
    expect(api.stderr).toMatch(/404|not found|unknown/i);
  });

  it('refuses a value ORAS does not have, exit 2', async () => {
    const { repo } = await subject('bad');
    const result = await ferry(
      'attach',
      `${repo}:v1`,
      'sig.txt',
      '--artifact-type',
      'x/sig',
      '--distribution-spec',
      'v1.0',
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('v1.1-referrers-tag');
  });
});
