/**
 * Issue 13 item 10: control sequences a registry puts in tags, artifact types, annotations and
 * error messages reach the terminal escaped, in every text ferry prints; JSON stays valid JSON.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Descriptor } from '@ferry/oci';
import { Progress } from './progress.js';
import { runCaptured } from './run-captured.js';
import { escapeTerminal } from './terminal-text.js';
import {
  sendJson,
  startRecordingServer,
  type RecordingServer,
} from './testing/recording-server.js';

const ESC = '\u001b';
const BEL = '\u0007';
const CSI_C1 = '\u009b';
/** Clears the screen, sets the window title (OSC 0 … BEL), colours with C1 CSI, rings the bell. */
const HOSTILE = `${ESC}[2J${ESC}]0;pwned${BEL}${CSI_C1}31m\r${BEL}`;
const HOSTILE_ESCAPED = '\\u001b[2J\\u001b]0;pwned\\u0007\\u009b31m\\u000d\\u0007';
/** Any character a terminal would act on, except the newline and tab of ferry's own layout. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

describe('escapeTerminal', () => {
  it('spells out C0 (ESC, BEL, CR), DEL and C1, and keeps newline and tab', () => {
    expect(escapeTerminal(HOSTILE)).toBe(HOSTILE_ESCAPED);
    expect(escapeTerminal(`a\tb\nc\u007fd\u0085e`)).toBe('a\tb\nc\\u007fd\\u0085e');
    expect(escapeTerminal('plain text, ünïcödé ✓')).toBe('plain text, ünïcödé ✓');
  });

  it('leaves JSON valid and meaning the same', () => {
    const value = { title: HOSTILE, del: '\u007f', c1: '\u0090\u009f' };
    const text = escapeTerminal(JSON.stringify(value, null, 2));
    expect(text).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('progress bars escape the names they draw (their own cursor codes stay)', () => {
    let drawn = '';
    const progress = new Progress(true, (text) => void (drawn += text));
    const descriptor = {
      mediaType: 'application/octet-stream',
      digest: `sha256:${'b'.repeat(64)}`,
      size: 10,
      annotations: { 'org.opencontainers.image.title': `model${HOSTILE}.bin` },
    } as Descriptor;
    const other = {
      ...descriptor,
      digest: `sha256:${'c'.repeat(64)}`,
      annotations: {},
    } as Descriptor;
    progress.start(descriptor, 'Pulling');
    progress.start(other, 'Pulling');
    // Finishing one bar redraws the others, the hostile one among them.
    progress.finish(other);
    progress.stop();
    // The name is escaped (and then cut to fit the terminal: a bar never wraps).
    expect(drawn).toContain(`Pulling model\\u001b[2J\\`);
    // Only ferry's own sequences remain: erase line/screen below, cursor up, inverse video.
    // eslint-disable-next-line no-control-regex -- ferry's own cursor codes
    expect(drawn.replace(/\u001b\[\d*[AKJm]|\r/g, '')).not.toMatch(RAW_CONTROL);
  });
});

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const manifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: MANIFEST,
  artifactType: 'application/x-evil',
  config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2 },
  layers: [
    {
      mediaType: 'application/octet-stream',
      digest: sha256('hello'),
      size: 5,
      annotations: { 'org.opencontainers.image.title': `file${HOSTILE}.txt` },
    },
  ],
  annotations: { 'org.opencontainers.image.title': `title${HOSTILE}`, note: HOSTILE },
});
const manifestDigest = sha256(manifest);
/** An index whose only entry has hostile platform fields. */
const index = JSON.stringify({
  schemaVersion: 2,
  mediaType: INDEX,
  manifests: [
    {
      mediaType: MANIFEST,
      digest: manifestDigest,
      size: Buffer.byteLength(manifest),
      platform: { os: `linux${HOSTILE}`, architecture: `amd64${HOSTILE}` },
    },
  ],
});

let registry: RecordingServer;
beforeAll(async () => {
  registry = await startRecordingServer((req, res) => {
    const url = req.url ?? '';
    if (url.startsWith('/v2/hostile/tags/list')) {
      return sendJson(res, 200, {
        name: 'hostile',
        tags: [`v1${HOSTILE}`, 'v2', 'v3\nDeleted   everything'],
      });
    }
    if (url.startsWith('/v2/denied/')) {
      return sendJson(res, 403, {
        errors: [{ code: 'DENIED', message: `access denied${HOSTILE} by policy` }],
      });
    }
    if (url === '/v2/hostile/manifests/v1' || url === `/v2/hostile/manifests/${manifestDigest}`) {
      res.writeHead(200, {
        'content-type': MANIFEST,
        'content-length': Buffer.byteLength(manifest),
        'docker-content-digest': manifestDigest,
      });
      return res.end(req.method === 'HEAD' ? undefined : manifest);
    }
    if (url === `/v2/hostile/referrers/${manifestDigest}`) {
      return sendJson(
        res,
        200,
        {
          schemaVersion: 2,
          mediaType: INDEX,
          manifests: [
            {
              mediaType: MANIFEST,
              digest: sha256('referrer'),
              size: 10,
              artifactType: 'application/vnd.sig',
              annotations: { 'org.opencontainers.image.description': `signed${HOSTILE}` },
            },
          ],
        },
        { 'content-type': INDEX },
      );
    }
    if (url === '/v2/hostile/manifests/multi' || url === `/v2/hostile/manifests/${sha256(index)}`) {
      res.writeHead(200, {
        'content-type': INDEX,
        'content-length': Buffer.byteLength(index),
        'docker-content-digest': sha256(index),
      });
      return res.end(req.method === 'HEAD' ? undefined : index);
    }
    if (url === `/v2/hostile/blobs/${sha256('hello')}`) {
      res.writeHead(200, { 'content-length': 5 });
      return res.end('hello');
    }
    if (url === `/v2/hostile/blobs/${sha256('{}')}`) {
      res.writeHead(200, { 'content-length': 2 });
      return res.end('{}');
    }
    sendJson(res, 404, { errors: [{ code: 'NOT_FOUND', message: `nothing${HOSTILE}` }] });
  });
});
afterAll(() => registry.close());

async function ferry(...args: string[]) {
  const result = await runCaptured(...args, '--plain-http');
  expect(result.stdout).not.toMatch(RAW_CONTROL);
  expect(result.stderr).not.toMatch(RAW_CONTROL);
  return result;
}

describe('what a hostile registry sends is printed escaped (issue 13 item 10)', () => {
  it('tags', async () => {
    const result = await ferry('repo', 'tags', `${registry.host}/hostile`);
    expect(result.code).toBe(0);
    // A newline inside a tag is spelt out too: it cannot print a line that looks like ferry's.
    expect(result.stdout).toBe(`v1${HOSTILE_ESCAPED}\nv2\nv3\\u000aDeleted   everything\n`);
  });

  it('an error body', async () => {
    const result = await ferry('repo', 'tags', `${registry.host}/denied`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`access denied${HOSTILE_ESCAPED} by policy`);
  });

  it('pull: a layer title in status lines or in the error naming it', async () => {
    const output = await mkdtemp(join(tmpdir(), 'ferry-hostile-title-'));
    try {
      const result = await ferry('pull', `${registry.host}/hostile:v1`, '-o', output);
      expect(`${result.stdout}${result.stderr}`).toContain(`file${HOSTILE_ESCAPED}.txt`);
    } finally {
      await rm(output, { recursive: true, force: true });
    }
  });

  it('platform fields, in the error listing what an index offers', async () => {
    const result = await ferry(
      'resolve',
      `${registry.host}/hostile:multi`,
      '--platform',
      'linux/arm64',
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`linux${HOSTILE_ESCAPED}/amd64${HOSTILE_ESCAPED}`);
  });

  it('manifest fetch --pretty: annotations and artifact type, still valid JSON', async () => {
    const result = await ferry('manifest', 'fetch', `${registry.host}/hostile:v1`, '--pretty');
    expect(result.code).toBe(0);
    // JSON spells CR as \r; the C1 CSI, which JSON leaves raw, is escaped by ferry.
    expect(result.stdout).toContain(
      '"org.opencontainers.image.title": "title\\u001b[2J\\u001b]0;pwned\\u0007\\u009b31m\\r\\u0007"',
    );
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(manifest));
  });

  it('discover --format json stays valid JSON with the same values', async () => {
    const result = await ferry('discover', `${registry.host}/hostile:v1`, '--format', 'json');
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as {
      referrers: { annotations: Record<string, string> }[];
    };
    expect(parsed.referrers[0]?.annotations['org.opencontainers.image.description']).toBe(
      `signed${HOSTILE}`,
    );
  });
});
