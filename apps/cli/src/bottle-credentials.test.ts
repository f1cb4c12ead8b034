/**
 * Flag credentials of a bottle command belong to the registry the user named (--registry, else
 * ghcr.io itself): a mirror that Homebrew's variables put in front of it, and that answers 401,
 * never receives them. Loopback servers play ghcr.io and the mirror.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { runWithStdin } from './run-captured.js';
import {
  basic,
  sendJson,
  startRecordingServer,
  type RecordingServer,
} from './testing/recording-server.js';

const PASSWORD = 'ghcr-s3cret';
let servers: RecordingServer[] = [];
let dir: string;
const saved: Record<string, string | undefined> = {};
const VARIABLES = ['FERRY_TEST_GHCR_HOST', 'HOMEBREW_ARTIFACT_DOMAIN'] as const;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-bottle-creds-'));
  for (const name of VARIABLES) saved[name] = process.env[name];
});
afterEach(async () => {
  for (const name of VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
  await rm(dir, { recursive: true, force: true });
});

async function basicRegistry(): Promise<RecordingServer> {
  const server = await startRecordingServer((_req, res) =>
    sendJson(
      res,
      401,
      { errors: [{ code: 'UNAUTHORIZED' }] },
      {
        'www-authenticate': 'Basic realm="registry"',
      },
    ),
  );
  servers.push(server);
  return server;
}

it('bottle info -u … --password-stdin: the artifact-domain mirror in front of ghcr.io gets no password', async () => {
  const ghcr = await basicRegistry();
  const mirror = await basicRegistry();
  process.env.FERRY_TEST_GHCR_HOST = ghcr.host;
  process.env.HOMEBREW_ARTIFACT_DOMAIN = mirror.origin;
  const result = await runWithStdin(
    `${PASSWORD}\n`,
    'bottle',
    'info',
    'hello',
    '-u',
    'me',
    '--password-stdin',
    '--registry-config',
    join(dir, 'none.json'),
  );
  expect(result.code).not.toBe(0);
  // The mirror was asked (and said 401); only ghcr.io, the registry the flags are for, got them.
  expect(mirror.requests.length).toBeGreaterThan(0);
  expect(mirror.secrets()).toEqual([]);
  expect(ghcr.secrets()).toContain(basic('me', PASSWORD));
});
