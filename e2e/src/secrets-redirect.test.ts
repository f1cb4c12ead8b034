// Credentials never cross origins: a fake registry (bearer tokens from its own token endpoint, or
// Basic) answers blob downloads with a redirect to a storage server on another origin, as
// registries that keep blobs in S3 or behind a CDN do. ferry must follow it without the
// Authorization header (pre-signed URLs carry their own authority), and its --debug trace must
// show neither the token, the password nor the pre-signed signature.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ferry, type CliResult } from './support/cli.js';
import { sendError, startFakeServer, type FakeServer } from './support/hostile-server.js';
import { artifactManifest } from './support/hostile-tar.js';

const USER = 'ferry';
const PASSWORD = `pw-${randomBytes(9).toString('hex')}`;
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const SIGNATURE = randomBytes(16).toString('hex');

const content = Buffer.from(`stored elsewhere ${randomBytes(8).toString('hex')}\n`);
const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
const manifest = Buffer.from(
  artifactManifest([
    {
      digest,
      size: content.byteLength,
      annotations: { 'org.opencontainers.image.title': 'stored.txt' },
    },
  ]),
);
const manifestDigest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;

let base: string;
let storage: FakeServer;
const registries: Record<'bearer' | 'basic', { server: FakeServer; issued: string[] }> =
  {} as never;

/** A registry that wants `scheme` credentials and keeps its blobs on `storage`. */
async function fakeRegistry(scheme: 'bearer' | 'basic') {
  const issued: string[] = [];
  let self = '';
  const server = await startFakeServer((req, res) => {
    const url = req.url ?? '';
    const auth = req.headers.authorization;
    if (url.startsWith('/token')) {
      if (auth !== BASIC) return sendError(res, 401, 'UNAUTHORIZED');
      const token = `tok-${randomBytes(12).toString('hex')}`;
      issued.push(token);
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ token, expires_in: 300 }));
    }
    const authorized =
      scheme === 'basic' ? auth === BASIC : issued.some((t) => auth === `Bearer ${t}`);
    if (!authorized) {
      const challenge =
        scheme === 'basic'
          ? 'Basic realm="fake"'
          : `Bearer realm="${self}/token",service="fake",scope="repository:r:pull"`;
      return sendError(res, 401, 'UNAUTHORIZED', { 'www-authenticate': challenge });
    }
    if (url === '/v2/') return sendError(res, 200, 'OK');
    if (/^\/v2\/r\/manifests\/(v1|sha256:[0-9a-f]{64})$/.test(url)) {
      res.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'content-length': manifest.byteLength,
        'docker-content-digest': manifestDigest,
      });
      return res.end(req.method === 'HEAD' ? undefined : manifest);
    }
    if (url === `/v2/r/blobs/${digest}`) {
      if (req.method === 'HEAD') {
        res.writeHead(200, {
          'content-length': content.byteLength,
          'docker-content-digest': digest,
        });
        return res.end();
      }
      const where = `${storage.url}/blobs/${digest.slice(7)}?X-Amz-Expires=60&X-Amz-Signature=${SIGNATURE}`;
      res.writeHead(307, { location: where });
      return res.end();
    }
    return sendError(res, 404, 'NOT_FOUND');
  });
  self = server.url;
  return { server, issued };
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'ferry-secrets-redirect-'));
  storage = await startFakeServer((req, res) => {
    if (!(req.url ?? '').includes(`X-Amz-Signature=${SIGNATURE}`))
      return sendError(res, 403, 'DENIED');
    res.writeHead(200, { 'content-length': content.byteLength });
    res.end(content);
  });
  registries.bearer = await fakeRegistry('bearer');
  registries.basic = await fakeRegistry('basic');
});

afterAll(async () => {
  await Promise.all(
    [storage, registries.bearer?.server, registries.basic?.server].map((s) => s?.close()),
  );
  if (base) await rm(base, { recursive: true, force: true });
});

const run = (args: string[]): Promise<CliResult> =>
  ferry([...args, '--plain-http', '--debug', '-u', USER, '--password-stdin'], {
    // A download cache of its own per run, so that every pull goes to the storage server.
    env: {
      DOCKER_CONFIG: join(base, 'docker'),
      FERRY_CACHE: join(base, `cache-${randomBytes(4).toString('hex')}`),
    },
    input: `${PASSWORD}\n`,
  });

describe('a blob redirected to storage on another origin', () => {
  it.each([
    ['bearer', 'blob fetch'],
    ['bearer', 'pull'],
    ['basic', 'blob fetch'],
    ['basic', 'pull'],
  ] as const)(
    '%s auth, %s: the storage origin sees no Authorization; the trace shows no secret',
    async (scheme, command) => {
      const { server, issued } = registries[scheme];
      const storageBefore = storage.requests.length;
      const out = join(base, `${scheme}-${command.replace(' ', '-')}`);
      const result =
        command === 'pull'
          ? await run(['pull', `${server.host}/r:v1`, '-o', out])
          : await run([
              'blob',
              'fetch',
              `${server.host}/r@${digest}`,
              '-o',
              join(base, `${scheme}.blob`),
            ]);
      expect(result.code, result.stderr).toBe(0);
      const written = command === 'pull' ? join(out, 'stored.txt') : join(base, `${scheme}.blob`);
      expect((await readFile(written)).equals(content)).toBe(true);

      // The registry got credentials for the blob request; the storage request carried none.
      const blobGets = server.requests.filter(
        (r) => r.method === 'GET' && r.url === `/v2/r/blobs/${digest}`,
      );
      expect(blobGets.length).toBeGreaterThan(0);
      expect(blobGets.at(-1)?.headers.authorization).toMatch(
        scheme === 'basic' ? /^Basic / : /^Bearer tok-/,
      );
      const fetched = storage.requests.slice(storageBefore);
      expect(fetched.length).toBeGreaterThan(0);
      for (const request of fetched) {
        expect(request.headers.authorization).toBeUndefined();
        expect(request.headers.cookie).toBeUndefined();
      }

      if (scheme === 'bearer') expect(issued.length).toBeGreaterThan(0);
      for (const secret of [PASSWORD, BASIC.slice(6), SIGNATURE, ...issued]) {
        expect(result.stderr).not.toContain(secret);
        expect(result.stdout).not.toContain(secret);
      }
      expect(result.stderr).toContain('X-Amz-Signature=REDACTED');
    },
  );
});
